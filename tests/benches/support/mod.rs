//! What the benchmark binaries share: the median timer, the figure format and the
//! enabling-resources check request they measure.

use shenbao::contract::{Applicant, Attachment, CheckRequest, Date, RoundInfo};
use std::time::{Duration, Instant};

/// Median time per iteration over `samples` batches of `batch` iterations.
pub fn measure(samples: usize, batch: usize, mut f: impl FnMut()) -> Duration {
    for _ in 0..batch.min(50) {
        f();
    }
    let mut times: Vec<Duration> = (0..samples)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..batch {
                f();
            }
            t.elapsed() / batch as u32
        })
        .collect();
    times.sort();
    times[samples / 2]
}

pub fn fmt(d: Duration) -> String {
    let ns = d.as_nanos() as f64;
    if ns >= 1e9 {
        format!("{:.2} s", ns / 1e9)
    } else if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else {
        format!("{:.2} µs", ns / 1e3)
    }
}

pub fn request(form: &str, data: String) -> CheckRequest {
    CheckRequest {
        form: form.into(),
        direction: Some("ai-application".into()),
        data,
        applicant: Applicant {
            credit_code: "91441300MA4UXXXX01".into(),
            name: "示例智能装备有限公司".into(),
            channel: "region".into(),
            city: Some("huizhou".into()),
            district: Some("huicheng".into()),
            profile: "{}".into(),
            ..Default::default()
        },
        history: Vec::new(),
        attachments: vec![Attachment { id: "a1".into(), kind: "audit-report".into(), ..Default::default() }],
        round: RoundInfo {
            id: "r".into(),
            program: "enabling-resources".into(),
            year: 2025,
            edition: "2025".into(),
            batch: None,
            config: "{}".into(),
        },
        as_of: Date::new(2024, 8, 10),
    }
}
