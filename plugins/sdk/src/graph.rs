//! The seed platform's approval path as a reusable graph builder: applicant →
//! (district) → city → province → (experts) → (public notice) → decision, with an
//! optional resource library afterwards. Every program proposes its own default
//! from this; a round may still replace it.

use shenbao_contract::*;

/// Which stages a program's path has.
#[derive(Clone, Debug)]
pub struct PlatformGraph {
    /// An optional district stage that each city switches on (是否需要区县审核).
    pub district_review: bool,
    /// Working days the city has for its review (e.g. 10 for enabling resources).
    pub city_sla: Option<u32>,
    /// Expert review after the province, with its working days (0: no service level).
    pub expert_review: Option<u32>,
    /// Public notice before the decision, with its working days (0: no service level).
    pub public_notice: Option<u32>,
    /// Keep admitted applications in a library with yearly duties.
    pub library: Option<Library>,
    pub routes: Vec<Route>,
}

/// The library's duties (enabling resources, 第十八至二十一条).
#[derive(Clone, Debug)]
pub struct Library {
    /// Yearly report due on this day.
    pub annual_due: MonthDay,
    /// Months to rectify after a warning.
    pub rectify_months: u32,
    /// Months banned from applying after removal.
    pub ban_months: u32,
}

impl Default for PlatformGraph {
    fn default() -> Self {
        PlatformGraph {
            district_review: true,
            city_sla: None,
            expert_review: None,
            public_notice: None,
            library: None,
            routes: Vec::new(),
        }
    }
}

fn stage(id: &str, zh: &str, en: &str, kind: StageKind, role: Option<&str>, scope: ScopeLevel) -> Stage {
    Stage {
        id: id.into(),
        title: Text::new(zh, en),
        kind,
        optional: false,
        role: role.map(Into::into),
        scope,
        sla_working_days: None,
        window: None,
        outcome: None,
    }
}

fn action(
    id: &str,
    zh: &str,
    en: &str,
    kind: ActionKind,
    from: &[String],
    to: Target,
    roles: &[&str],
    scope: ScopeLevel,
) -> Action {
    let opinion = match kind {
        ActionKind::Recommend
        | ActionKind::NotRecommend
        | ActionKind::Return
        | ActionKind::Decide
        | ActionKind::Warn
        | ActionKind::Remove => OpinionRule::Required,
        ActionKind::Withdraw | ActionKind::ResolveObjection | ActionKind::Object | ActionKind::Exit => {
            OpinionRule::Optional
        }
        _ => OpinionRule::None,
    };
    Action {
        id: id.into(),
        title: Text::new(zh, en),
        kind,
        from_stages: from.to_vec(),
        to,
        roles: roles.iter().map(|r| r.to_string()).collect(),
        scope,
        opinion,
        batch: kind == ActionKind::Recommend,
        runs_check: kind == ActionKind::Submit,
        deadline_months: None,
        ban_months: None,
        annual_due: None,
    }
}

fn ids(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

impl PlatformGraph {
    pub fn build(&self) -> Graph {
        use ActionKind as K;
        use ScopeLevel::*;
        let mut stages = vec![Stage {
            window: Some("applicant".into()),
            ..stage("draft", "申报人申报", "applicant drafting", StageKind::Draft, Some("applicant"), OwnOrganisation)
        }];
        // The review levels in order: (prefix, zh, en, role(s), scope, window).
        let mut levels: Vec<(&str, &str, &str, Vec<&str>, ScopeLevel)> = Vec::new();
        if self.district_review {
            stages.push(Stage {
                optional: true,
                window: Some("district".into()),
                ..stage(
                    "district-review",
                    "区县审核",
                    "district review",
                    StageKind::Review,
                    Some("district-officer"),
                    District,
                )
            });
            levels.push(("district", "区县", "district", vec!["district-officer"], District));
        }
        stages.push(Stage {
            window: Some("city".into()),
            sla_working_days: self.city_sla,
            ..stage("city-review", "市级审核", "city review", StageKind::Review, Some("city-officer"), City)
        });
        levels.push(("city", "地市", "city", vec!["city-officer", "city-leader"], City));
        stages.push(Stage {
            window: Some("province".into()),
            ..stage(
                "province-review",
                "省级审核",
                "province review",
                StageKind::Review,
                Some("province-officer"),
                Province,
            )
        });
        if let Some(days) = self.expert_review {
            stages.push(Stage {
                sla_working_days: (days > 0).then_some(days),
                ..stage(
                    "expert-review",
                    "专家评审",
                    "expert review",
                    StageKind::Expert,
                    Some("province-officer"),
                    Province,
                )
            });
        }
        if let Some(days) = self.public_notice {
            stages.push(Stage {
                sla_working_days: (days > 0).then_some(days),
                ..stage("public-notice", "公示", "public notice", StageKind::Notice, Some("province-officer"), Province)
            });
        }
        let admitted = if self.library.is_some() {
            stages.push(Stage {
                outcome: None,
                ..stage("library", "入库", "in the library", StageKind::Library, Some("province-officer"), Province)
            });
            stages.push(stage(
                "rectifying",
                "预警整改",
                "warned, rectifying",
                StageKind::Library,
                Some("province-officer"),
                Province,
            ));
            "library"
        } else {
            "passed"
        };
        let terminal = |id: &str, zh: &str, en: &str, o: Outcome| Stage {
            outcome: Some(o),
            ..stage(id, zh, en, StageKind::Terminal, None, Province)
        };
        if self.library.is_none() {
            stages.push(terminal("passed", "通过", "passed", Outcome::Passed));
        }
        stages.push(terminal("not-passed", "不通过", "not passed", Outcome::NotPassed));
        if self.library.is_some() {
            stages.push(terminal("removed", "移出资源库", "removed from the library", Outcome::Removed));
            stages.push(terminal(
                "removed-for-cause",
                "移出资源库（三年内不得申报）",
                "removed for cause, barred from applying",
                Outcome::Removed,
            ));
            stages.push(terminal("exited", "主动退出", "exited voluntarily", Outcome::Exited));
        }

        let stay = Target::Stay;
        let to = |s: &str| Target::Stage(s.into());
        let mut actions = vec![
            action(
                "save-draft",
                "保存草稿",
                "save draft",
                K::SaveDraft,
                &ids(&["draft"]),
                stay.clone(),
                &["applicant"],
                OwnOrganisation,
            ),
            action(
                "submit",
                "提交",
                "submit",
                K::Submit,
                &ids(&["draft"]),
                Target::Next,
                &["applicant"],
                OwnOrganisation,
            ),
        ];
        let review_ids: Vec<String> =
            stages.iter().filter(|s| s.kind == StageKind::Review).map(|s| s.id.clone()).collect();
        for (i, (prefix, zh, en, roles, scope)) in levels.iter().enumerate() {
            let here = format!("{prefix}-review");
            // Stages an application can sit at after this level recommended it.
            let after: Vec<String> = review_ids[review_ids.iter().position(|r| *r == here).unwrap() + 1..]
                .iter()
                .take(if i + 1 < levels.len() { 2 } else { 1 })
                .cloned()
                .collect();
            let roles: Vec<&str> = roles.clone();
            actions.push(action(
                &format!("{prefix}-recommend"),
                &format!("{zh}推荐"),
                &format!("{en} recommends"),
                K::Recommend,
                std::slice::from_ref(&here),
                Target::Next,
                &roles,
                *scope,
            ));
            actions.push(action(
                &format!("{prefix}-not-recommend"),
                &format!("{zh}不推荐"),
                &format!("{en} does not recommend"),
                K::NotRecommend,
                std::slice::from_ref(&here),
                to("not-passed"),
                &roles,
                *scope,
            ));
            actions.push(action(
                &format!("{prefix}-return"),
                &format!("{zh}回退"),
                &format!("{en} returns"),
                K::Return,
                std::slice::from_ref(&here),
                Target::Previous,
                &roles,
                *scope,
            ));
            actions.push(action(
                &format!("{prefix}-withdraw"),
                &format!("{zh}撤回"),
                &format!("{en} withdraws its decision"),
                K::Withdraw,
                &after,
                Target::Previous,
                &roles,
                *scope,
            ));
            actions.push(action(
                &format!("{prefix}-rank"),
                &format!("{zh}推荐排序"),
                &format!("{en} ranks its recommendations"),
                K::Rank,
                &after,
                stay.clone(),
                &roles,
                *scope,
            ));
        }
        let p = &["province-officer"];
        let after_province = stages.iter().skip_while(|s| s.id != "province-review").nth(1).map(|s| s.id.clone());
        let decide_from: String = if self.public_notice.is_some() {
            "public-notice".into()
        } else if self.expert_review.is_some() {
            "expert-review".into()
        } else {
            "province-review".into()
        };
        if after_province.as_deref().is_some_and(|s| s == "expert-review" || s == "public-notice") {
            actions.push(action(
                "province-recommend",
                "省级推荐",
                "province recommends",
                K::Recommend,
                &ids(&["province-review"]),
                Target::Next,
                p,
                Province,
            ));
            actions.push(action(
                "province-not-recommend",
                "省级不推荐",
                "province does not recommend",
                K::NotRecommend,
                &ids(&["province-review"]),
                to("not-passed"),
                p,
                Province,
            ));
        }
        actions.push(action(
            "province-return",
            "省级回退",
            "province returns",
            K::Return,
            &ids(&["province-review"]),
            Target::Previous,
            p,
            Province,
        ));
        if self.expert_review.is_some() {
            actions.push(action(
                "assign-experts",
                "分配专家",
                "assign experts",
                K::AssignExperts,
                &ids(&["expert-review"]),
                stay.clone(),
                p,
                Province,
            ));
            actions.push(action(
                "score",
                "专家评分",
                "expert scores",
                K::Score,
                &ids(&["expert-review"]),
                stay.clone(),
                &["expert"],
                Assigned,
            ));
        }
        if self.public_notice.is_some() {
            let from = if self.expert_review.is_some() { "expert-review" } else { "province-review" };
            actions.push(action(
                "publish-notice",
                "发布公示",
                "publish the public notice",
                K::PublishNotice,
                &ids(&[from]),
                to("public-notice"),
                p,
                Province,
            ));
            actions.push(action(
                "object",
                "公示异议",
                "file an objection",
                K::Object,
                &ids(&["public-notice"]),
                stay.clone(),
                &["public"],
                Public,
            ));
            actions.push(action(
                "resolve-objection",
                "处理异议",
                "resolve an objection",
                K::ResolveObjection,
                &ids(&["public-notice"]),
                stay.clone(),
                p,
                Province,
            ));
        }
        actions.push(action(
            "approve",
            "审定通过",
            "approve",
            K::Decide,
            &ids(&[&decide_from]),
            to(admitted),
            p,
            Province,
        ));
        actions.push(action(
            "reject",
            "审定不通过",
            "reject",
            K::Decide,
            &ids(&[&decide_from]),
            to("not-passed"),
            p,
            Province,
        ));
        if let Some(lib) = &self.library {
            actions.push(Action {
                annual_due: Some(lib.annual_due),
                ..action(
                    "annual-report",
                    "年度报告",
                    "yearly report",
                    K::AnnualReport,
                    &ids(&["library", "rectifying"]),
                    stay.clone(),
                    &["applicant"],
                    OwnOrganisation,
                )
            });
            actions.push(Action {
                deadline_months: Some(lib.rectify_months),
                ..action("warn", "预警", "warn", K::Warn, &ids(&["library"]), to("rectifying"), p, Province)
            });
            actions.push(action(
                "rectified",
                "整改完成",
                "rectified",
                K::Rectify,
                &ids(&["rectifying"]),
                to("library"),
                p,
                Province,
            ));
            // Removal after a failed rectification: no ban.
            actions.push(action(
                "remove",
                "移出",
                "remove",
                K::Remove,
                &ids(&["library", "rectifying"]),
                to("removed"),
                p,
                Province,
            ));
            // Removal for a major accident, serious dishonesty or false materials: banned.
            actions.push(Action {
                ban_months: Some(lib.ban_months),
                ..action(
                    "remove-for-cause",
                    "移出并限制申报",
                    "remove and bar from applying",
                    K::Remove,
                    &ids(&["library", "rectifying"]),
                    to("removed-for-cause"),
                    p,
                    Province,
                )
            });
            actions.push(action(
                "exit",
                "主动退出",
                "voluntary exit",
                K::Exit,
                &ids(&["library", "rectifying"]),
                to("exited"),
                p,
                Province,
            ));
        }
        Graph { initial: "draft".into(), stages, actions, routes: self.routes.clone() }
    }
}
