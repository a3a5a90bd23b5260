//! Anti-smishing: real government notices never carry links or "call this number" prompts, so a
//! notification whose text contains a URL, a web address or a phone number is refused, with the
//! offending text named.

const TLDS: &[&str] = &[
    "com", "net", "org", "kr", "co", "io", "ly", "me", "info", "xyz", "app", "link", "site", "top",
    "gl", "to", "gg", "biz", "shop", "online", "club", "cc", "tk", "ml", "ga", "cf", "gq", "ru",
    "cn", "us", "uk", "jp", "go", "or",
];

fn trim_token(token: &str) -> &str {
    token.trim_matches(|c: char| {
        !c.is_alphanumeric() && c != '/' && c != ':' && c != '.' && c != '-' && c != '_'
    })
}

fn looks_like_link(token: &str) -> bool {
    let lower = token.to_lowercase();
    if lower.contains("://") || lower.starts_with("www.") || lower.starts_with("hxxp") {
        return true;
    }
    // host.tld or host.tld/path: a dot followed by a known top-level domain.
    let host = lower.split('/').next().unwrap_or_default();
    let labels: Vec<&str> = host.split('.').collect();
    labels.len() >= 2
        && labels
            .iter()
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        && labels.split_last().is_some_and(|(_, rest)| {
            rest.iter()
                .any(|l| l.chars().any(|c| c.is_ascii_alphabetic()))
        })
        && TLDS.contains(labels.last().unwrap_or(&""))
}

/// Digit groups of a phone-like run, e.g. `010-1234-5678` → [010, 1234, 5678].
fn phone_like(run: &str) -> bool {
    let compact: String = run
        .chars()
        .filter(|c| *c != ' ')
        .map(|c| if matches!(c, '(' | ')') { '-' } else { c })
        .collect();
    if compact.starts_with("+82") && compact.chars().filter(char::is_ascii_digit).count() >= 9 {
        return true;
    }
    let groups: Vec<&str> = compact
        .split(['-', '.'])
        .filter(|g| !g.is_empty())
        .collect();
    if !groups.iter().all(|g| g.chars().all(|c| c.is_ascii_digit())) {
        return false;
    }
    match groups.as_slice() {
        // 010-1234-5678, 02-123-4567, 031-123-4567
        [a, b, c] => {
            a.starts_with('0')
                && (2..=3).contains(&a.len())
                && (3..=4).contains(&b.len())
                && c.len() == 4
        }
        // 1588-1234 (national representative numbers)
        [a, b] => {
            a.len() == 4 && ["15", "16", "18"].iter().any(|p| a.starts_with(p)) && b.len() == 4
        }
        // 01012345678, 0212345678
        [a] => a.starts_with('0') && (9..=11).contains(&a.len()),
        _ => false,
    }
}

/// The first link or phone number in `text`, with what it is.
pub fn find_call_to_action(text: &str) -> Option<String> {
    for raw in text.split_whitespace() {
        let token = trim_token(raw);
        if looks_like_link(token) {
            return Some(format!("a link ({token})"));
        }
    }
    // Phone numbers may contain spaces: scan runs of digits and separators.
    let mut run = String::new();
    for c in text.chars().chain(std::iter::once('\n')) {
        if c.is_ascii_digit()
            || matches!(c, '-' | '+' | '(' | ')' | '.')
            || (c == ' ' && !run.is_empty())
        {
            run.push(c);
        } else {
            let candidate = run.trim().trim_end_matches(['-', '.']);
            if candidate.chars().filter(char::is_ascii_digit).count() >= 8 && phone_like(candidate)
            {
                return Some(format!("a phone number ({candidate})"));
            }
            // Space-separated groups: try each part too (010 1234 5678 is one number).
            run.clear();
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_and_numbers_are_caught() {
        for bad in [
            "자세한 내용은 https://bit.ly/3xYz 에서 확인",
            "www.gov-refund.kr 에 접속하세요",
            "환급금 조회: refund-gov.com/check",
            "hxxp://evil 로 이동",
            "문의 010-1234-5678 로 연락",
            "고객센터 1588-1234",
            "연락처: 02-123-4567",
            "+82 10 1234 5678 로 전화",
            "01012345678 로 문자 주세요",
            "(02)123-4567",
        ] {
            assert!(find_call_to_action(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn ordinary_government_text_passes() {
        for ok in [
            "2026년 2기분 주민세 75,000원이 2026-12-31까지 납부 기한입니다.",
            "국가건강검진 대상자입니다. 가까운 검진기관을 방문하세요.",
            "부모급여 신청이 완료되었습니다 (신청번호 2026-000123).",
            "Your child allowance of 100,000 KRW was paid on 2026.11.25.",
            "운전면허 적성검사 기간: 2026.01.01 ~ 2026.12.31",
            "e.g. 3.5% interest",
        ] {
            assert_eq!(find_call_to_action(ok), None, "{ok}");
        }
    }
}
