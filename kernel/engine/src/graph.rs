//! Approval graphs: consistency checks at configuration time, and routing (which
//! stages are active for an applicant, which comes next).

use crate::model::{Organisation, RoundSpec};
use shenbao_contract::{
    ActionKind, Finding, Graph, OpinionRule, RouteCondition, Severity, Stage, StageKind, Target, Text,
};
use std::collections::{BTreeSet, VecDeque};

/// Window names a stage may carry.
pub const WINDOWS: &[&str] = &["applicant", "district", "city", "province"];

/// A window's name as a sentence in Chinese reads it (申报, 区县推荐 …); an unknown
/// name is returned as it is.
pub fn window_zh(window: &str) -> &str {
    match window {
        "applicant" => "申报",
        "district" => "区县推荐",
        "city" => "地市推荐",
        "province" => "省级审核",
        other => other,
    }
}

fn finding(rule: &str, path: String, zh: String, en: String) -> Finding {
    Finding { rule_id: rule.to_string(), severity: Severity::Blocking, path, message: Text::new(zh, en) }
}

/// Every inconsistency of a graph, as blocking findings (`graph.*`). Empty = sound.
pub fn check_graph(g: &Graph) -> Vec<Finding> {
    let mut out = Vec::new();
    let stage_ids: BTreeSet<&str> = g.stages.iter().map(|s| s.id.as_str()).collect();
    if stage_ids.len() != g.stages.len() {
        out.push(finding(
            "graph.duplicate-stage",
            "$.stages".into(),
            "环节标识重复".into(),
            "a stage id is declared twice".into(),
        ));
    }
    let action_ids: BTreeSet<&str> = g.actions.iter().map(|a| a.id.as_str()).collect();
    if action_ids.len() != g.actions.len() {
        out.push(finding(
            "graph.duplicate-action",
            "$.actions".into(),
            "操作标识重复".into(),
            "an action id is declared twice".into(),
        ));
    }
    if !stage_ids.contains(g.initial.as_str()) {
        out.push(finding(
            "graph.unknown-initial",
            "$.initial".into(),
            format!("起始环节“{}”不存在", g.initial),
            format!("initial stage {:?} is not declared", g.initial),
        ));
        return out;
    }
    for (i, s) in g.stages.iter().enumerate() {
        if s.kind == StageKind::Terminal && s.outcome.is_none() {
            out.push(finding(
                "graph.terminal-without-outcome",
                format!("$.stages[{i}].outcome"),
                format!("终止环节“{}”未声明结果", s.id),
                format!("terminal stage {:?} has no outcome", s.id),
            ));
        }
        if let Some(w) = &s.window {
            if !WINDOWS.contains(&w.as_str()) {
                out.push(finding(
                    "graph.unknown-window",
                    format!("$.stages[{i}].window"),
                    format!(
                        "环节“{}”的时间窗“{w}”未定义（应为 {}）",
                        s.id,
                        WINDOWS.iter().map(|w| format!("{w}（{}）", window_zh(w))).collect::<Vec<_>>().join("、")
                    ),
                    format!("stage {:?} names window {w:?}; windows are {}", s.id, WINDOWS.join(", ")),
                ));
            }
        }
    }
    for (i, a) in g.actions.iter().enumerate() {
        for s in &a.from_stages {
            if !stage_ids.contains(s.as_str()) {
                out.push(finding(
                    "graph.action-unknown-stage",
                    format!("$.actions[{i}].from_stages"),
                    format!("操作“{}”所在环节“{s}”不存在", a.id),
                    format!("action {:?} is allowed at undeclared stage {s:?}", a.id),
                ));
            }
        }
        match &a.to {
            Target::Stage(s) if !stage_ids.contains(s.as_str()) => out.push(finding(
                "graph.action-leads-nowhere",
                format!("$.actions[{i}].to"),
                format!("操作“{}”指向不存在的环节“{s}”", a.id),
                format!("action {:?} leads to undeclared stage {s:?}", a.id),
            )),
            Target::Next => {
                for s in &a.from_stages {
                    if forward_candidates(g, s).is_empty() && stage_ids.contains(s.as_str()) {
                        out.push(finding(
                            "graph.action-leads-nowhere",
                            format!("$.actions[{i}].to"),
                            format!("操作“{}”在环节“{s}”之后没有下一环节", a.id),
                            format!("action {:?} goes to the next stage, but nothing follows {s:?}", a.id),
                        ));
                    }
                }
            }
            _ => {}
        }
        if matches!(a.kind, ActionKind::Recommend | ActionKind::NotRecommend | ActionKind::Return)
            && a.opinion != OpinionRule::Required
        {
            out.push(finding(
                "graph.opinion-required",
                format!("$.actions[{i}].opinion"),
                format!("操作“{}”（推荐/不推荐/回退）必须填写审核意见", a.id),
                format!("action {:?} (recommend / not recommend / return) must require an opinion", a.id),
            ));
        }
        if a.roles.is_empty() {
            out.push(finding(
                "graph.action-without-role",
                format!("$.actions[{i}].roles"),
                format!("操作“{}”未指定可执行角色", a.id),
                format!("action {:?} names no role that may take it", a.id),
            ));
        }
    }
    for (i, r) in g.routes.iter().enumerate() {
        for s in &r.skip {
            if !stage_ids.contains(s.as_str()) {
                out.push(finding(
                    "graph.route-unknown-stage",
                    format!("$.routes[{i}].skip"),
                    format!("路由“{}”跳过不存在的环节“{s}”", r.id),
                    format!("route {:?} skips undeclared stage {s:?}", r.id),
                ));
            }
        }
    }
    // Reachability from the initial stage.
    let reached = reachable(g);
    for (i, s) in g.stages.iter().enumerate() {
        if !reached.contains(s.id.as_str()) {
            out.push(finding(
                "graph.unreachable-stage",
                format!("$.stages[{i}]"),
                format!("环节“{}”无法从起始环节到达", s.id),
                format!("stage {:?} cannot be reached from the initial stage", s.id),
            ));
        }
    }
    out
}

/// Stages `Next` may lead to from `from`: the following non-draft, non-terminal
/// stages up to and including the first that is neither optional nor skippable.
fn forward_candidates<'a>(g: &'a Graph, from: &str) -> Vec<&'a Stage> {
    let skippable: BTreeSet<&str> = g.routes.iter().flat_map(|r| r.skip.iter().map(String::as_str)).collect();
    let Some(pos) = g.stages.iter().position(|s| s.id == from) else { return Vec::new() };
    let mut out = Vec::new();
    for s in &g.stages[pos + 1..] {
        if matches!(s.kind, StageKind::Draft | StageKind::Terminal) {
            continue;
        }
        out.push(s);
        if !s.optional && !skippable.contains(s.id.as_str()) {
            break;
        }
    }
    out
}

fn reachable(g: &Graph) -> BTreeSet<&str> {
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let mut queue = VecDeque::from([g.initial.as_str()]);
    while let Some(s) = queue.pop_front() {
        if !seen.insert(s) {
            continue;
        }
        for a in g.actions.iter().filter(|a| a.from_stages.iter().any(|f| f == s)) {
            match &a.to {
                Target::Stage(t) => queue.push_back(t.as_str()),
                Target::Next => queue.extend(forward_candidates(g, s).into_iter().map(|t| t.id.as_str())),
                Target::Previous | Target::Stay => {}
            }
        }
    }
    seen
}

/// Routing for one applicant in one round.
pub struct Routing<'a> {
    pub graph: &'a Graph,
    pub spec: &'a RoundSpec,
    pub applicant: &'a Organisation,
}

impl Routing<'_> {
    /// Whether `stage` is active for this applicant; why not, if not.
    pub fn inactive_because(&self, stage: &Stage) -> Option<String> {
        for r in &self.graph.routes {
            let matches = match &r.when {
                RouteCondition::Channel(cs) => cs.contains(&self.applicant.channel),
                RouteCondition::City(cs) => self.applicant.city.as_ref().is_some_and(|city| cs.contains(city)),
                RouteCondition::Tag(ts) => ts.iter().any(|t| self.applicant.tags.contains(t)),
            };
            if matches && r.skip.contains(&stage.id) {
                return Some(format!("route {} skips {}", r.id, stage.id));
            }
        }
        if stage.optional {
            let city = self.applicant.city.as_deref().unwrap_or("");
            let on = match self.spec.switches.get(&stage.id) {
                Some(sw) => sw.cities.get(city).copied().unwrap_or(sw.default),
                None if stage.window.as_deref() == Some("district") => {
                    self.spec.cities.get(city).is_some_and(|c| c.district_review)
                }
                None => false,
            };
            if !on {
                return Some(format!(
                    "optional stage {} is off for {}",
                    stage.id,
                    if city.is_empty() { "this applicant" } else { city }
                ));
            }
        }
        None
    }

    /// The next active stage after `from`, collecting why stages were passed over.
    pub fn next_after(&self, from: &str, explain: &mut Vec<String>) -> Option<&Stage> {
        let pos = self.graph.stages.iter().position(|s| s.id == from)?;
        for s in &self.graph.stages[pos + 1..] {
            if matches!(s.kind, StageKind::Draft | StageKind::Terminal) {
                continue;
            }
            match self.inactive_because(s) {
                Some(why) => explain.push(why),
                None => return Some(s),
            }
        }
        None
    }
}
