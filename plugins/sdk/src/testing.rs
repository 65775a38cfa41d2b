//! Helpers for plugin unit tests that run natively.

use shenbao_contract::{Applicant, CheckRequest, Date, RoundInfo};

/// A request for `form` with `data`, an invented applicant with a valid credit code,
/// as of 2024-08-10. Adjust the fields a test cares about.
pub fn request(form: &str, data: serde_json::Value) -> CheckRequest {
    CheckRequest {
        form: form.to_string(),
        direction: None,
        data: data.to_string(),
        applicant: Applicant {
            credit_code: "91441300MA4UXXXX01".to_string(),
            name: "示例智能装备有限公司".to_string(),
            channel: "region".to_string(),
            city: Some("huizhou".to_string()),
            district: Some("huicheng".to_string()),
            dishonest: false,
            tags: Vec::new(),
            qualifications: Vec::new(),
            profile: "{}".to_string(),
        },
        history: Vec::new(),
        attachments: Vec::new(),
        round: RoundInfo {
            id: "test-round".to_string(),
            program: "test".to_string(),
            year: 2024,
            edition: String::new(),
            batch: None,
            config: "{}".to_string(),
        },
        as_of: Date::new(2024, 8, 10),
    }
}
