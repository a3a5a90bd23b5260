//! Benefit catalogs: signed by a publisher (COSE_Sign1 over CBOR), each benefit with its rule
//! compiled when the catalog is read; and the sample catalog of Korean programmes.

use std::collections::HashMap;

use super::rules::{self, Expr, Outcome, RuleError, Val};
use super::{attribute_document, attribute_type};
use crate::cose::cbor::{self, Value};

/// A benefit with its compiled rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Benefit {
    /// Id.
    pub id: String,
    /// Korean name.
    pub name_ko: String,
    /// English name.
    pub name_en: String,
    /// Responsible agency.
    pub agency: String,
    /// What it gives.
    pub description: String,
    /// Documents an application needs.
    pub documents: Vec<String>,
    /// The rule's text.
    pub rule_text: String,
    /// The compiled rule.
    pub rule: Expr,
}

/// Why a catalog was refused.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum CatalogError {
    /// Structure or a field.
    #[error("malformed catalog: {0}")]
    Malformed(String),
    /// A rule that does not compile (names the benefit).
    #[error("benefit {benefit}: {error}")]
    Rule {
        /// The benefit.
        benefit: String,
        /// What is wrong.
        error: RuleError,
    },
}

/// Eligible, not, or not decidable yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Eligibility {
    /// Every condition holds.
    Eligible,
    /// A deciding condition fails.
    NotEligible,
    /// Attributes are missing.
    Unknown,
}

/// One benefit's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    /// The benefit's index in the catalog.
    pub index: usize,
    /// Result.
    pub eligibility: Eligibility,
    /// Missing attributes with the document that would supply each.
    pub missing: Vec<(String, String)>,
    /// The deciding conditions, as text.
    pub explanation: Vec<String>,
}

/// Compiles one benefit.
pub fn benefit(
    id: &str,
    name_ko: &str,
    name_en: &str,
    agency: &str,
    description: &str,
    documents: &[&str],
    rule: &str,
) -> Result<Benefit, CatalogError> {
    let compiled = rules::parse(rule, &attribute_type).map_err(|error| CatalogError::Rule {
        benefit: id.to_owned(),
        error,
    })?;
    Ok(Benefit {
        id: id.to_owned(),
        name_ko: name_ko.to_owned(),
        name_en: name_en.to_owned(),
        agency: agency.to_owned(),
        description: description.to_owned(),
        documents: documents.iter().map(|d| d.to_string()).collect(),
        rule_text: rule.to_owned(),
        rule: compiled,
    })
}

/// Reads a verified catalog payload.
pub fn parse(body: &Value) -> Result<Vec<Benefit>, CatalogError> {
    let bad = |e: crate::cose::CoseError| CatalogError::Malformed(e.to_string());
    let m = cbor::map(body, "catalog").map_err(bad)?;
    if cbor::text(cbor::require(m, "type", "catalog").map_err(bad)?, "type").map_err(bad)?
        != "benefit-catalog"
    {
        return Err(CatalogError::Malformed(
            "type is not benefit-catalog".into(),
        ));
    }
    let mut out = Vec::new();
    for b in cbor::array(
        cbor::require(m, "benefits", "catalog").map_err(bad)?,
        "benefits",
    )
    .map_err(bad)?
    {
        let bm = cbor::map(b, "benefit").map_err(bad)?;
        let t = |k: &str| -> Result<String, CatalogError> {
            Ok(cbor::text(cbor::require(bm, k, "benefit").map_err(bad)?, k)
                .map_err(bad)?
                .to_owned())
        };
        let docs = cbor::array(
            cbor::require(bm, "documents", "benefit").map_err(bad)?,
            "documents",
        )
        .map_err(bad)?
        .iter()
        .map(|d| cbor::text(d, "document").map(str::to_owned).map_err(bad))
        .collect::<Result<Vec<_>, _>>()?;
        let doc_refs: Vec<&str> = docs.iter().map(String::as_str).collect();
        out.push(benefit(
            &t("id")?,
            &t("name_ko")?,
            &t("name_en")?,
            &t("agency")?,
            &t("description")?,
            &doc_refs,
            &t("rule")?,
        )?);
    }
    Ok(out)
}

#[cfg(feature = "issuer")]
/// The catalog payload (publisher side).
pub fn payload(benefits: &[Benefit], version: u64) -> Value {
    Value::Map(vec![
        cbor::entry("type", Value::Text("benefit-catalog".into())),
        cbor::entry("version", Value::Integer(version.into())),
        cbor::entry(
            "benefits",
            Value::Array(
                benefits
                    .iter()
                    .map(|b| {
                        Value::Map(vec![
                            cbor::entry("id", Value::Text(b.id.clone())),
                            cbor::entry("name_ko", Value::Text(b.name_ko.clone())),
                            cbor::entry("name_en", Value::Text(b.name_en.clone())),
                            cbor::entry("agency", Value::Text(b.agency.clone())),
                            cbor::entry("description", Value::Text(b.description.clone())),
                            cbor::entry(
                                "documents",
                                Value::Array(
                                    b.documents.iter().map(|d| Value::Text(d.clone())).collect(),
                                ),
                            ),
                            cbor::entry("rule", Value::Text(b.rule_text.clone())),
                        ])
                    })
                    .collect(),
            ),
        ),
    ])
}

/// Evaluates every benefit for one citizen.
pub fn evaluate(benefits: &[Benefit], facts: &HashMap<String, Val>) -> Vec<Evaluation> {
    let lookup = |name: &str| facts.get(name).cloned();
    benefits
        .iter()
        .enumerate()
        .map(|(index, b)| match rules::eval(&b.rule, &lookup) {
            Outcome::Decided(Val::Bool(true), why) => Evaluation {
                index,
                eligibility: Eligibility::Eligible,
                missing: Vec::new(),
                explanation: why,
            },
            Outcome::Decided(_, why) => Evaluation {
                index,
                eligibility: Eligibility::NotEligible,
                missing: Vec::new(),
                explanation: why,
            },
            Outcome::Unknown(missing) => Evaluation {
                index,
                eligibility: Eligibility::Unknown,
                explanation: Vec::new(),
                missing: missing
                    .into_iter()
                    .map(|a| {
                        let doc = attribute_document(&a).to_owned();
                        (a, doc)
                    })
                    .collect(),
            },
        })
        .collect()
}

/// (id, 한국어, English, agency, description, rule) of the sample catalog, modelled on real
/// Korean programmes. Thresholds follow each programme's published criteria in simplified form.
pub const SAMPLE: &[(&str, &str, &str, &str, &str, &str)] = &[
    ("parental-benefit", "부모급여", "Parental benefit", "보건복지부", "만 0-1세 자녀 양육 가구에 월 지원", "youngest_child_age_months < 24"),
    ("child-allowance", "아동수당", "Child allowance", "보건복지부", "만 8세 미만 아동 월 10만원", "youngest_child_age_months < 96"),
    ("first-meeting-voucher", "첫만남이용권", "First-meeting voucher", "보건복지부", "출생아 1인당 바우처", "youngest_child_age_months < 12"),
    ("basic-pension", "기초연금", "Basic pension", "보건복지부", "만 65세 이상 소득하위 70% 어르신", "age >= 65 and income_percent_median <= 70"),
    ("youth-rent-support", "청년월세 지원", "Youth rent support", "국토교통부", "무주택 청년 월세 지원", "age >= 19 and age <= 34 and not homeowner and income_percent_median <= 60"),
    ("energy-voucher", "에너지바우처", "Energy voucher", "산업통상자원부", "취약계층 냉난방비 지원", "income_percent_median <= 40 and (age >= 65 or disability or pregnant or youngest_child_age_months < 84)"),
    ("pregnancy-medical-voucher", "임신·출산 진료비 지원", "Pregnancy medical voucher", "보건복지부", "임신 1회당 진료비 바우처", "pregnant"),
    ("postpartum-care", "산모·신생아 건강관리 지원", "Postpartum care support", "보건복지부", "출산 가정 건강관리사 파견", "youngest_child_age_months < 2 and income_percent_median <= 150"),
    ("childcare-fee", "보육료 지원", "Childcare fee support", "보건복지부", "어린이집 이용 영유아 보육료", "youngest_child_age_months >= 0 and youngest_child_age_months < 72"),
    ("home-childcare-allowance", "가정양육수당", "Home childcare allowance", "보건복지부", "어린이집을 이용하지 않는 영유아", "youngest_child_age_months >= 24 and youngest_child_age_months < 86"),
    ("youth-savings", "청년도약계좌", "Youth leap savings", "금융위원회", "청년 자산형성 지원", "age >= 19 and age <= 34 and income_percent_median <= 180"),
    ("national-employment-support", "국민취업지원제도", "National employment support", "고용노동부", "구직자 취업지원과 수당", "age >= 15 and age <= 69 and employment == \"unemployed\" and income_percent_median <= 60"),
    ("disability-pension", "장애인연금", "Disability pension", "보건복지부", "중증장애인 소득보전", "disability and age >= 18 and income_percent_median <= 70"),
    ("livelihood-benefit", "생계급여", "Livelihood benefit", "보건복지부", "기초생활보장 생계급여", "income_percent_median <= 32"),
    ("medical-benefit", "의료급여", "Medical benefit", "보건복지부", "기초생활보장 의료급여", "income_percent_median <= 40"),
    ("housing-benefit", "주거급여", "Housing benefit", "국토교통부", "기초생활보장 주거급여", "income_percent_median <= 48 and not homeowner"),
    ("education-benefit", "교육급여", "Education benefit", "교육부", "기초생활보장 교육급여", "income_percent_median <= 50 and children_count >= 1"),
    ("single-parent-support", "한부모가족 아동양육비", "Single-parent child support", "여성가족부", "한부모가족 자녀 양육비", "single_parent and income_percent_median <= 63 and youngest_child_age_months < 216"),
    ("veterans-honor-allowance", "보훈명예수당", "Veterans honour allowance", "국가보훈부", "65세 이상 국가유공자 수당", "veteran and age >= 65"),
    ("senior-job", "노인일자리 및 사회활동", "Senior jobs and activities", "보건복지부", "어르신 공익활동 일자리", "age >= 65"),
    ("dementia-screening", "치매 조기검진", "Dementia screening", "보건소", "만 60세 이상 무료 검진", "age >= 60"),
    ("senior-flu-vaccine", "어르신 인플루엔자 무료접종", "Senior flu vaccination", "질병관리청", "만 65세 이상 무료 접종", "age >= 65"),
    ("child-flu-vaccine", "어린이 인플루엔자 무료접종", "Child flu vaccination", "질병관리청", "생후 6개월-13세 무료 접종", "youngest_child_age_months >= 6 and youngest_child_age_months < 168"),
    ("newlywed-lease-loan", "신혼부부 전용 전세자금 대출", "Newlywed lease loan", "주택도시기금", "혼인 7년 이내 무주택 신혼부부", "married and months_since_marriage <= 84 and not homeowner and income_percent_median <= 150"),
    ("multi-child-utility-discount", "다자녀 전기요금 할인", "Multi-child electricity discount", "한국전력공사", "자녀 3명 이상 가구", "children_count >= 3"),
    ("infertility-treatment", "난임부부 시술비 지원", "Infertility treatment support", "보건복지부", "난임 시술비 지원", "married and not pregnant and age >= 20 and age <= 49"),
    ("youth-job-seeking-allowance", "청년구직활동지원금", "Youth job-seeking allowance", "고용노동부", "미취업 청년 구직활동 지원", "age >= 18 and age <= 34 and employment == \"unemployed\" and income_percent_median <= 120"),
    ("farmer-direct-payment", "농업인 공익직불금", "Farmer public-interest payment", "농림축산식품부", "등록 농업인 직불금", "farmer"),
    ("culture-voucher", "문화누리카드", "Culture voucher", "문화체육관광부", "저소득층 문화·여행·체육", "age >= 6 and income_percent_median <= 50"),
    ("disability-activity-support", "장애인 활동지원", "Disability activity support", "보건복지부", "활동지원사 서비스", "disability and age >= 6 and age < 65"),
    ("earned-income-credit", "근로장려금", "Earned income tax credit", "국세청", "저소득 근로·사업자 장려금", "employment in [\"employed\", \"self_employed\"] and income_percent_median <= 60"),
    ("child-tax-credit", "자녀장려금", "Child tax credit", "국세청", "저소득 자녀 양육 가구", "children_count >= 1 and income_percent_median <= 80"),
    ("seoul-pregnancy-transport", "서울 임산부 교통비", "Seoul pregnancy transport support", "서울특별시", "서울 거주 임산부 교통비", "pregnant and region == \"서울\""),
    ("seoul-youth-allowance", "서울 청년수당", "Seoul youth allowance", "서울특별시", "서울 미취업 청년 활동지원", "region == \"서울\" and age >= 19 and age <= 34 and employment == \"unemployed\" and income_percent_median <= 150"),
    ("large-family-housing", "다자녀 특별공급", "Multi-child housing allocation", "국토교통부", "자녀 2명 이상 무주택 가구 특별공급", "children_count >= 2 and not homeowner"),
];

#[cfg(feature = "issuer")]
/// The sample catalog, compiled.
pub fn sample() -> Result<Vec<Benefit>, CatalogError> {
    SAMPLE
        .iter()
        .map(|(id, ko, en, agency, description, rule)| {
            let compiled =
                rules::parse(rule, &attribute_type).map_err(|error| CatalogError::Rule {
                    benefit: id.to_string(),
                    error,
                })?;
            let mut docs: Vec<&str> = super::ATTRIBUTES
                .iter()
                .filter(|(name, ..)| rule_mentions(&compiled, name))
                .map(|(.., doc)| *doc)
                .collect();
            docs.dedup();
            benefit(id, ko, en, agency, description, &docs, rule)
        })
        .collect()
}

#[cfg(feature = "issuer")]
fn rule_mentions(e: &Expr, name: &str) -> bool {
    match e {
        Expr::Attr(n, _) => n == name,
        Expr::Lit(_) => false,
        Expr::Not(a) | Expr::In(a, _) => rule_mentions(a, name),
        Expr::And(a, b) | Expr::Or(a, b) | Expr::Cmp(_, a, b) | Expr::Arith(_, a, b) => {
            rule_mentions(a, name) || rule_mentions(b, name)
        }
    }
}

#[cfg(all(test, feature = "issuer"))]
mod tests {
    use super::*;

    fn facts(pairs: &[(&str, Val)]) -> HashMap<String, Val> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    /// One citizen who qualifies and one who does not, for every rule in the sample catalog.
    #[test]
    fn every_sample_rule_has_a_yes_and_a_no() {
        use Val::{Bool as B, Int as I, Text as T};
        let t = |s: &str| T(s.to_string());
        type Facts = Vec<(&'static str, Val)>;
        let cases: Vec<(&str, Facts, Facts)> = vec![
            (
                "parental-benefit",
                vec![("youngest_child_age_months", I(5))],
                vec![("youngest_child_age_months", I(30))],
            ),
            (
                "child-allowance",
                vec![("youngest_child_age_months", I(60))],
                vec![("youngest_child_age_months", I(100))],
            ),
            (
                "first-meeting-voucher",
                vec![("youngest_child_age_months", I(0))],
                vec![("youngest_child_age_months", I(12))],
            ),
            (
                "basic-pension",
                vec![("age", I(70)), ("income_percent_median", I(50))],
                vec![("age", I(70)), ("income_percent_median", I(90))],
            ),
            (
                "youth-rent-support",
                vec![
                    ("age", I(25)),
                    ("homeowner", B(false)),
                    ("income_percent_median", I(50)),
                ],
                vec![
                    ("age", I(25)),
                    ("homeowner", B(true)),
                    ("income_percent_median", I(50)),
                ],
            ),
            (
                "energy-voucher",
                vec![
                    ("income_percent_median", I(30)),
                    ("age", I(40)),
                    ("disability", B(true)),
                    ("pregnant", B(false)),
                    ("youngest_child_age_months", I(200)),
                ],
                vec![
                    ("income_percent_median", I(30)),
                    ("age", I(40)),
                    ("disability", B(false)),
                    ("pregnant", B(false)),
                    ("youngest_child_age_months", I(200)),
                ],
            ),
            (
                "pregnancy-medical-voucher",
                vec![("pregnant", B(true))],
                vec![("pregnant", B(false))],
            ),
            (
                "postpartum-care",
                vec![
                    ("youngest_child_age_months", I(1)),
                    ("income_percent_median", I(100)),
                ],
                vec![
                    ("youngest_child_age_months", I(1)),
                    ("income_percent_median", I(200)),
                ],
            ),
            (
                "childcare-fee",
                vec![("youngest_child_age_months", I(30))],
                vec![("youngest_child_age_months", I(80))],
            ),
            (
                "home-childcare-allowance",
                vec![("youngest_child_age_months", I(40))],
                vec![("youngest_child_age_months", I(10))],
            ),
            (
                "youth-savings",
                vec![("age", I(30)), ("income_percent_median", I(100))],
                vec![("age", I(40)), ("income_percent_median", I(100))],
            ),
            (
                "national-employment-support",
                vec![
                    ("age", I(30)),
                    ("employment", t("unemployed")),
                    ("income_percent_median", I(50)),
                ],
                vec![
                    ("age", I(30)),
                    ("employment", t("employed")),
                    ("income_percent_median", I(50)),
                ],
            ),
            (
                "disability-pension",
                vec![
                    ("disability", B(true)),
                    ("age", I(40)),
                    ("income_percent_median", I(50)),
                ],
                vec![
                    ("disability", B(false)),
                    ("age", I(40)),
                    ("income_percent_median", I(50)),
                ],
            ),
            (
                "livelihood-benefit",
                vec![("income_percent_median", I(30))],
                vec![("income_percent_median", I(33))],
            ),
            (
                "medical-benefit",
                vec![("income_percent_median", I(40))],
                vec![("income_percent_median", I(41))],
            ),
            (
                "housing-benefit",
                vec![("income_percent_median", I(45)), ("homeowner", B(false))],
                vec![("income_percent_median", I(45)), ("homeowner", B(true))],
            ),
            (
                "education-benefit",
                vec![("income_percent_median", I(45)), ("children_count", I(1))],
                vec![("income_percent_median", I(45)), ("children_count", I(0))],
            ),
            (
                "single-parent-support",
                vec![
                    ("single_parent", B(true)),
                    ("income_percent_median", I(50)),
                    ("youngest_child_age_months", I(100)),
                ],
                vec![
                    ("single_parent", B(false)),
                    ("income_percent_median", I(50)),
                    ("youngest_child_age_months", I(100)),
                ],
            ),
            (
                "veterans-honor-allowance",
                vec![("veteran", B(true)), ("age", I(70))],
                vec![("veteran", B(true)), ("age", I(60))],
            ),
            ("senior-job", vec![("age", I(65))], vec![("age", I(64))]),
            (
                "dementia-screening",
                vec![("age", I(60))],
                vec![("age", I(59))],
            ),
            (
                "senior-flu-vaccine",
                vec![("age", I(80))],
                vec![("age", I(50))],
            ),
            (
                "child-flu-vaccine",
                vec![("youngest_child_age_months", I(24))],
                vec![("youngest_child_age_months", I(3))],
            ),
            (
                "newlywed-lease-loan",
                vec![
                    ("married", B(true)),
                    ("months_since_marriage", I(12)),
                    ("homeowner", B(false)),
                    ("income_percent_median", I(120)),
                ],
                vec![
                    ("married", B(true)),
                    ("months_since_marriage", I(100)),
                    ("homeowner", B(false)),
                    ("income_percent_median", I(120)),
                ],
            ),
            (
                "multi-child-utility-discount",
                vec![("children_count", I(3))],
                vec![("children_count", I(2))],
            ),
            (
                "infertility-treatment",
                vec![("married", B(true)), ("pregnant", B(false)), ("age", I(38))],
                vec![
                    ("married", B(false)),
                    ("pregnant", B(false)),
                    ("age", I(38)),
                ],
            ),
            (
                "youth-job-seeking-allowance",
                vec![
                    ("age", I(22)),
                    ("employment", t("unemployed")),
                    ("income_percent_median", I(100)),
                ],
                vec![
                    ("age", I(22)),
                    ("employment", t("student")),
                    ("income_percent_median", I(100)),
                ],
            ),
            (
                "farmer-direct-payment",
                vec![("farmer", B(true))],
                vec![("farmer", B(false))],
            ),
            (
                "culture-voucher",
                vec![("age", I(30)), ("income_percent_median", I(40))],
                vec![("age", I(5)), ("income_percent_median", I(40))],
            ),
            (
                "disability-activity-support",
                vec![("disability", B(true)), ("age", I(30))],
                vec![("disability", B(true)), ("age", I(70))],
            ),
            (
                "earned-income-credit",
                vec![
                    ("employment", t("self_employed")),
                    ("income_percent_median", I(50)),
                ],
                vec![
                    ("employment", t("retired")),
                    ("income_percent_median", I(50)),
                ],
            ),
            (
                "child-tax-credit",
                vec![("children_count", I(2)), ("income_percent_median", I(70))],
                vec![("children_count", I(2)), ("income_percent_median", I(90))],
            ),
            (
                "seoul-pregnancy-transport",
                vec![("pregnant", B(true)), ("region", t("서울"))],
                vec![("pregnant", B(true)), ("region", t("부산"))],
            ),
            (
                "seoul-youth-allowance",
                vec![
                    ("region", t("서울")),
                    ("age", I(28)),
                    ("employment", t("unemployed")),
                    ("income_percent_median", I(100)),
                ],
                vec![
                    ("region", t("경기")),
                    ("age", I(28)),
                    ("employment", t("unemployed")),
                    ("income_percent_median", I(100)),
                ],
            ),
            (
                "large-family-housing",
                vec![("children_count", I(2)), ("homeowner", B(false))],
                vec![("children_count", I(1)), ("homeowner", B(false))],
            ),
        ];
        let catalog = sample().unwrap();
        assert!(catalog.len() >= 30);
        assert_eq!(cases.len(), catalog.len(), "a test for every rule");
        for (id, yes, no) in cases {
            let index = catalog
                .iter()
                .position(|b| b.id == id)
                .unwrap_or_else(|| panic!("{id}"));
            let one = std::slice::from_ref(&catalog[index]);
            let r = &evaluate(one, &facts(&yes))[0];
            assert_eq!(r.eligibility, Eligibility::Eligible, "{id}: {:?}", r);
            assert!(!r.explanation.is_empty(), "{id} explains itself");
            assert_eq!(
                evaluate(one, &facts(&no))[0].eligibility,
                Eligibility::NotEligible,
                "{id}"
            );
            let unknown = &evaluate(one, &HashMap::new())[0];
            assert_eq!(unknown.eligibility, Eligibility::Unknown, "{id}");
            assert!(
                unknown.missing.iter().all(|(_, doc)| !doc.is_empty()),
                "{id}: every missing attribute names its document"
            );
        }
    }

    #[test]
    fn catalog_payload_round_trips_and_bad_rules_name_their_benefit() {
        let catalog = sample().unwrap();
        assert_eq!(parse(&payload(&catalog, 3)).unwrap(), catalog);
        let bad = benefit("x", "x", "x", "x", "x", &[], "salary > 1");
        assert!(matches!(bad, Err(CatalogError::Rule { benefit, .. }) if benefit == "x"));
    }
}
