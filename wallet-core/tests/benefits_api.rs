//! On-device benefit eligibility through the API: opt-in, facts from credentials and from the
//! citizen, a signed catalog, eligible / not eligible / unknown with what is missing, and the
//! refusals (no opt-in, unknown attribute, untrusted publisher).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use wallet_core::*;

const NOW: i64 = 1_800_000_000; // 2027-01-15

fn result<'a>(results: &'a [BenefitResult], id: &str) -> &'a BenefitResult {
    results.iter().find(|r| r.benefit_id == id).unwrap()
}

#[test]
fn eligibility_from_credentials_and_facts() {
    let wallet = Wallet::open_blocking(WalletConfig {
        allow_loopback_http: false,
        path: None,
        create_if_missing: true,
        key_protector: passphrase_key_protector_with_cost("pw".into(), 10_000).unwrap(),
        secure_area: None,
        clock: Some(fixed_clock(NOW)),
        listener: None,
    })
    .unwrap();
    let gov =
        TestAuthority::create("Gov".into(), "KR".into(), Some(fixed_clock(NOW - 60))).unwrap();
    wallet
        .add_trust_anchor(
            TrustRole::CatalogPublisher,
            gov.root_certificate(TrustRole::CatalogPublisher).unwrap(),
        )
        .unwrap();
    let catalog = gov.sign_benefit_catalog(1).unwrap();

    // Nothing happens without the citizen's opt-in.
    assert!(matches!(
        wallet.evaluate_benefits(catalog.clone()),
        Err(WalletError::InvalidInput { .. })
    ));
    assert!(matches!(
        wallet.set_citizen_facts(vec![]),
        Err(WalletError::InvalidInput { .. })
    ));
    wallet.set_benefit_opt_in(true).unwrap();

    // Age comes from the mobile driver's licence: born 1995-05-05, so 31 on 2027-01-15.
    let key = wallet.create_device_key().unwrap();
    let mdl = gov
        .issue_mdl(
            key.public_key.clone(),
            MdlClaims {
                family_name: "홍".into(),
                given_name: "길동".into(),
                birth_date: "1995-05-05".into(),
                document_number: "1".into(),
                issuing_authority: "경찰청".into(),
                portrait: vec![0xff, 0xd8, 0xff, 0xd9],
                vehicle_categories: vec!["B".into()],
                valid_days: 365,
                status: None,
            },
        )
        .unwrap();
    wallet.add_mdoc(mdl, key.alias).unwrap();
    wallet
        .set_citizen_facts(vec![
            CitizenFact {
                name: "youngest_child_age_months".into(),
                value: FactValue::Int { value: 7 },
            },
            CitizenFact {
                name: "region".into(),
                value: FactValue::Text {
                    value: "서울".into(),
                },
            },
            CitizenFact {
                name: "age".into(),
                value: FactValue::Int { value: 99 },
            },
        ])
        .unwrap();
    let results = wallet.evaluate_benefits(catalog.clone()).unwrap();
    assert!(results.len() >= 30);
    let parental = result(&results, "parental-benefit");
    assert_eq!(parental.eligibility, Eligibility::Eligible);
    assert_eq!(
        parental.explanation,
        ["youngest_child_age_months (7) < 24: yes"]
    );
    // The licence's age (31) overrides the typed 99.
    assert_eq!(
        result(&results, "basic-pension").eligibility,
        Eligibility::NotEligible
    );
    assert_eq!(
        result(&results, "senior-job").explanation,
        ["age (31) >= 65: no"]
    );
    let rent = result(&results, "youth-rent-support");
    assert_eq!(rent.eligibility, Eligibility::Unknown);
    let missing: Vec<&str> = rent.missing.iter().map(|m| m.attribute.as_str()).collect();
    assert_eq!(missing, ["homeowner", "income_percent_median"]);
    assert_eq!(rent.missing[0].document, "주택소유확인서");
    // Newly eligible benefits arrive in the inbox, once.
    let inbox = wallet
        .list_notifications(
            NotificationFilter {
                category: Some(NotificationCategory::Benefit),
                ..Default::default()
            },
            0,
            50,
        )
        .unwrap();
    let eligible = results
        .iter()
        .filter(|r| r.eligibility == Eligibility::Eligible)
        .count() as u64;
    assert_eq!(inbox.total, eligible);
    wallet.evaluate_benefits(catalog.clone()).unwrap();
    assert_eq!(
        wallet
            .list_notifications(
                NotificationFilter {
                    category: Some(NotificationCategory::Benefit),
                    ..Default::default()
                },
                0,
                50
            )
            .unwrap()
            .total,
        eligible
    );

    // Bad facts and untrusted catalogs are refused.
    match wallet.set_citizen_facts(vec![CitizenFact {
        name: "salary".into(),
        value: FactValue::Int { value: 1 },
    }]) {
        Err(WalletError::InvalidInput { reason }) => {
            assert!(reason.contains("unknown attribute salary"))
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        wallet.set_citizen_facts(vec![CitizenFact {
            name: "pregnant".into(),
            value: FactValue::Int { value: 1 }
        }]),
        Err(WalletError::InvalidInput { .. })
    ));
    let stranger =
        TestAuthority::create("Fake".into(), "KR".into(), Some(fixed_clock(NOW - 60))).unwrap();
    match wallet.evaluate_benefits(stranger.sign_benefit_catalog(1).unwrap()) {
        Err(WalletError::Verification {
            failure: VerificationFailure::UntrustedSender,
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        wallet.evaluate_benefits(vec![0xa0]),
        Err(WalletError::Verification { .. })
    ));
    assert_eq!(benefit_attributes().len(), 16);

    // Withdrawing deletes what was entered.
    wallet.set_benefit_opt_in(false).unwrap();
    wallet.set_benefit_opt_in(true).unwrap();
    assert!(wallet.citizen_facts().unwrap().is_empty());
}
