//! Rounds: the configuration check (graph, windows, cities, the plugin's own
//! check), create, configure, open, close, a city's own settings; rounds parsed once
//! per stored version. A round's rules are re-checked inside the transaction that
//! writes them, so an open round never changes under its users.

use super::*;

impl Kernel {
    /// A round as of `tx`, parsed once per stored version.
    pub(super) fn round_in(
        &self,
        tx: &WriteTransaction,
        versions: &redb::Table<'_, TextKey, u64>,
        id: &str,
    ) -> Result<Option<std::sync::Arc<Round>>, StoreError> {
        let version = versions.get(id)?.map_or(0, |v| v.value());
        self.round_cached(id, version, || ROUNDS.open(tx)?.get(id))
    }

    /// The parsed round of `version`, from the cache or from `load`.
    fn round_cached(
        &self,
        id: &str,
        version: u64,
        load: impl FnOnce() -> Result<Option<Round>, StoreError>,
    ) -> Result<Option<std::sync::Arc<Round>>, StoreError> {
        if let Some(r) = self.caches().rounds.get(id).filter(|(v, _)| *v == version) {
            return Ok(Some(r.1.clone()));
        }
        let Some(round) = load()? else { return Ok(None) };
        let round = std::sync::Arc::new(round);
        self.caches().rounds.insert(id.to_string(), (version, round.clone()));
        Ok(Some(round))
    }

    /// A round as of a read transaction (parsed once per stored version).
    pub(super) fn round_read(
        &self,
        tx: &redb::ReadTransaction,
        id: &str,
    ) -> Result<Option<std::sync::Arc<Round>>, StoreError> {
        let version = tx.open_table(ROUND_VERSIONS)?.get(id)?.map_or(0, |v| v.value());
        self.round_cached(id, version, || ROUNDS.open(tx)?.get(id))
    }

    /// Every finding against a round specification: the graph, the windows, the
    /// cities, and the plugin's own check of the configuration.
    pub fn check_round_spec(&self, spec: &RoundSpec) -> Result<(Round, Vec<Finding>), RoundError> {
        let loaded = self.plugin(&spec.program, &spec.plugin_version).map_err(CheckError::from)?;
        let plugin = loaded.plugin();
        let manifest = crate::plugin::ProgramPlugin::manifest(plugin);
        let mut findings = Vec::new();
        let mut fail = |rule: &str, path: &str, zh: String, en: String| {
            findings.push(Finding {
                rule_id: rule.into(),
                severity: Severity::Blocking,
                path: path.into(),
                message: Text::new(zh, en),
            })
        };
        // The id names the round in URLs, file names and download headers.
        let id_ok = spec.id.len() <= 64
            && spec.id.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
            && spec.id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !id_ok {
            fail(
                "round.id-invalid",
                "$.id",
                "批次编号只能含字母、数字、-、_、.，以字母或数字开头，不超过 64 个字符".into(),
                format!(
                    "a round id is letters, digits, '-', '_' or '.', starting with a letter or digit, at most 64 \
                     characters (e.g. er-2024q3); got {:?}",
                    spec.id.chars().take(80).collect::<String>()
                ),
            );
        }
        let edition = spec.edition.clone().unwrap_or_else(|| manifest.default_edition.clone());
        if !manifest.editions.is_empty() && !manifest.editions.iter().any(|e| e.id == edition) {
            fail(
                "round.unknown-edition",
                "$.edition",
                format!("未知版本“{edition}”"),
                format!("unknown edition {edition:?}"),
            );
        }
        let mut graph = spec.graph.clone().unwrap_or_else(|| manifest.graph.clone());
        // The round's own channels, each a route of its graph.
        for (i, c) in spec.channels.iter().enumerate() {
            let path = format!("$.channels[{i}].id");
            if !crate::regions::valid_channel_id(&c.id) {
                fail(
                    "round.channel-invalid",
                    &path,
                    format!(
                        "渠道编号“{}”无效：小写字母、数字和 -，以字母开头，不超过 40 个字符",
                        c.id.chars().take(60).collect::<String>()
                    ),
                    format!(
                        "channel id {:?} must be lower-case letters, digits and '-', starting with a letter, at most 40 characters",
                        c.id.chars().take(60).collect::<String>()
                    ),
                );
            } else if crate::regions::CHANNELS.iter().any(|(b, _)| *b == c.id)
                || spec.channels[..i].iter().any(|x| x.id == c.id)
            {
                fail(
                    "round.channel-duplicate",
                    &path,
                    format!("渠道“{}”已由平台或本批次定义", c.id),
                    format!(
                        "channel {:?} is the platform's own or declared twice; the program's graph routes the platform's channels",
                        c.id
                    ),
                );
            }
            graph.routes.push(shenbao_contract::Route {
                id: format!("channel:{}", c.id),
                title: c.title.clone(),
                when: shenbao_contract::RouteCondition::Channel(vec![c.id.clone()]),
                skip: c.skip.clone(),
            });
        }
        findings.extend(check_graph(&graph));
        let p = spec.province;
        let mut fail = |rule: &str, path: &str, zh: String, en: String| {
            findings.push(Finding {
                rule_id: rule.into(),
                severity: Severity::Blocking,
                path: path.into(),
                message: Text::new(zh, en),
            })
        };
        let quotas = spec.quotas.clone().unwrap_or_else(|| manifest.quotas.clone());
        for (i, q) in quotas.iter().enumerate() {
            if !graph.actions.iter().any(|a| a.id == q.action) {
                fail(
                    "round.quota-unknown-action",
                    &format!("$.quotas[{i}].action"),
                    format!("限额“{}”计数的操作“{}”不存在", q.id, q.action),
                    format!("quota {:?} counts undeclared action {:?}", q.id, q.action),
                );
            }
            if let Some(s) = &q.stage {
                if !graph.stages.iter().any(|x| &x.id == s) {
                    fail(
                        "round.quota-unknown-stage",
                        &format!("$.quotas[{i}].stage"),
                        format!("限额“{}”的环节“{s}”不存在", q.id),
                        format!("quota {:?} names undeclared stage {s:?}", q.id),
                    );
                }
            }
        }
        // Every time people give is a Beijing time from 1900 to 9999 (a number of
        // seconds far out is a typing error, and dates computed from it overflow).
        let mut times = vec![("$.province.start".to_string(), p.start), ("$.province.end".to_string(), p.end)];
        times.extend(spec.city_deadline.map(|t| ("$.city_deadline".to_string(), t)));
        times.extend(spec.province_deadline.map(|t| ("$.province_deadline".to_string(), t)));
        for (city, cfg) in &spec.cities {
            if let Some(w) = cfg.applicants {
                times.push((format!("$.cities.{city}.applicants.start"), w.start));
                times.push((format!("$.cities.{city}.applicants.end"), w.end));
            }
            times.extend(cfg.district_deadline.map(|t| (format!("$.cities.{city}.district_deadline"), t)));
        }
        for (path, t) in times.into_iter().filter(|(_, t)| !t.in_range()) {
            fail(
                "round.time-out-of-range",
                &path,
                format!("时间 {} 超出可用范围（1900-01-01 至 9999-12-31，北京时间）", t.0),
                format!("time {} (seconds) is outside 1900-01-01 to 9999-12-31 Beijing time", t.0),
            );
        }
        if p.start > p.end {
            fail(
                "round.window.order",
                "$.province",
                "省级申报时间开始晚于结束".into(),
                "the province window ends before it starts".into(),
            );
        }
        if let (Some(c), Some(pd)) = (spec.city_deadline, spec.province_deadline) {
            if c > pd {
                fail(
                    "round.window.city-after-province",
                    "$.city_deadline",
                    format!("地市审核截止 {c} 晚于省级审核截止 {pd}"),
                    format!("city deadline {c} is after the province deadline {pd}"),
                );
            }
        }
        for (city, cfg) in &spec.cities {
            let path = format!("$.cities.{city}");
            match self.region(city)? {
                Some(r) if r.kind == RegionKind::City => {}
                _ => fail(
                    "round.unknown-city",
                    &path,
                    format!("地市“{city}”不存在"),
                    format!("city {city:?} does not exist"),
                ),
            }
            if let Some(w) = cfg.applicants {
                if w.start > w.end || !w.within(&p) {
                    fail(
                        "round.window.city-outside-province",
                        &format!("{path}.applicants"),
                        format!(
                            "{city} 申报时间 {} 至 {} 须在省级申报时间 {} 至 {} 之内",
                            w.start, w.end, p.start, p.end
                        ),
                        format!(
                            "{city}'s applicant window {}–{} must lie inside the province window {}–{}",
                            w.start, w.end, p.start, p.end
                        ),
                    );
                }
            }
            if let Some(d) = cfg.district_deadline {
                let city_end = spec.city_deadline;
                let start = cfg.applicants.map_or(p.start, |w| w.start);
                if d < start || city_end.is_some_and(|c| d > c) {
                    fail(
                        "round.window.district-outside-city",
                        &format!("{path}.district_deadline"),
                        format!(
                            "{city} 区县审核截止 {d} 须在地市审核期内（{start} 至 {}）",
                            city_end.map_or("—".into(), |c| c.to_string())
                        ),
                        format!("{city}'s district deadline {d} must lie inside the city's review period"),
                    );
                }
                if !cfg.district_review {
                    fail(
                        "round.district-deadline-without-review",
                        &format!("{path}.district_deadline"),
                        format!("{city} 未启用区县审核却设置了区县截止时间"),
                        format!("{city} sets a district deadline but no district review"),
                    );
                }
            }
            if cfg.district_review
                && !graph.stages.iter().any(|s| s.optional && s.window.as_deref() == Some("district"))
            {
                fail(
                    "round.no-district-stage",
                    &format!("{path}.district_review"),
                    "本项目流程没有可选的区县审核环节".into(),
                    "the graph has no optional district stage to switch on".into(),
                );
            }
        }
        for stage in spec.switches.keys() {
            if !graph.stages.iter().any(|s| &s.id == stage && s.optional) {
                fail(
                    "round.switch-unknown-stage",
                    &format!("$.switches.{stage}"),
                    format!("“{stage}”不是可选环节"),
                    format!("{stage:?} is not an optional stage"),
                );
            }
        }
        let info = RoundInfo {
            id: spec.id.clone(),
            program: spec.program.clone(),
            year: spec.year,
            edition: edition.clone(),
            batch: spec.batch.clone(),
            config: spec.config.to_string(),
        };
        let checked = crate::plugin::ProgramPlugin::check_round(plugin, &info).map_err(CheckError::from)?;
        findings.extend(checked.value.findings);
        let round = Round {
            spec: spec.clone(),
            plugin: crate::plugin::ProgramPlugin::id(plugin).clone(),
            edition,
            graph,
            quotas,
            directions: checked.value.directions,
            expert_items: crate::plugin::ProgramPlugin::manifest(plugin).expert_items.clone(),
            status: RoundStatus::Configured,
            created_at: self.now(),
        };
        Ok((round, findings))
    }

    /// The round a spec makes, or its blocking findings.
    pub(super) fn sound_round(&self, spec: &RoundSpec) -> Result<Round, RoundError> {
        let (round, findings) = self.check_round_spec(spec)?;
        if findings.iter().any(|f| f.severity == Severity::Blocking) {
            return Err(RoundError::Invalid { findings });
        }
        Ok(round)
    }

    /// Create a round pinned to the plugin's sha256. Refused with findings when the
    /// graph, windows or the plugin's configuration check have blocking problems.
    pub fn create_round(&self, spec: RoundSpec) -> Result<Round, RoundError> {
        if spec.id.trim().is_empty() {
            let f = blocking("round.id", "$.id", "轮次标识为空".into(), "round id is empty".into());
            return Err(RoundError::Invalid { findings: vec![f] });
        }
        let round = self.sound_round(&spec)?;
        self.write(|tx| {
            if ROUNDS.open(tx)?.get(spec.id.as_str())?.is_some() {
                return Err(RoundError::Exists(spec.id.clone()));
            }
            put_round(tx, &round)?;
            Ok(round)
        })
    }

    pub fn round(&self, id: &str) -> Result<Round, RoundError> {
        Ok((*self.round_arc(id)?).clone())
    }

    /// A round, parsed once per stored version.
    pub(crate) fn round_arc(&self, id: &str) -> Result<std::sync::Arc<Round>, RoundError> {
        self.round_read(&self.begin_read()?, id)?.ok_or_else(|| RoundError::NotFound(id.into()))
    }

    pub fn rounds(&self) -> Result<Vec<Round>, StoreError> {
        self.read_all(ROUNDS)
    }

    pub(super) fn set_status(&self, id: &str, from: &[RoundStatus], to: RoundStatus) -> Result<Round, RoundError> {
        self.write(|tx| {
            let mut round: Round = ROUNDS.open(tx)?.get(id)?.ok_or_else(|| RoundError::NotFound(id.into()))?;
            if !from.contains(&round.status) {
                return Err(RoundError::Frozen { round: id.into(), status: round.status });
            }
            round.status = to;
            put_round(tx, &round)?;
            Ok(round)
        })
    }

    pub fn open_round(&self, id: &str) -> Result<Round, RoundError> {
        self.set_status(id, &[RoundStatus::Configured], RoundStatus::Open)
    }

    /// Close an open round: from then on it takes no submissions and no reviews —
    /// only the actions of its library (入库) stages.
    ///
    /// # Errors
    /// [`RoundError::NotFound`]; [`RoundError::NotOpen`] unless the round is open;
    /// [`RoundError::UnderReview`] (`round_under_review`, with how many and the
    /// first) while an application is at a review, expert or notice stage, which
    /// closing would leave with no way forward — [`Kernel::force_close_round`]
    /// closes anyway.
    pub fn close_round(&self, id: &str) -> Result<Round, RoundError> {
        self.close(id, false)
    }

    /// Close an open round even with applications still under review: they stay
    /// where they are, for good (the round cannot be opened again).
    ///
    /// # Errors
    /// [`RoundError::NotFound`]; [`RoundError::NotOpen`] unless the round is open.
    pub fn force_close_round(&self, id: &str) -> Result<Round, RoundError> {
        self.close(id, true)
    }

    fn close(&self, id: &str, force: bool) -> Result<Round, RoundError> {
        self.write(|tx| {
            let mut round: Round = ROUNDS.open(tx)?.get(id)?.ok_or_else(|| RoundError::NotFound(id.into()))?;
            if round.status != RoundStatus::Open {
                return Err(RoundError::NotOpen { round: id.into(), status: round.status });
            }
            if !force {
                let queue = tx.open_table(crate::tables::QUEUE)?;
                let mut first = None;
                let mut count = 0u64;
                for stage in round.graph.stages.iter().filter(|s| under_review(s.kind)) {
                    let s = stage.id.as_str();
                    for row in queue.range((id, s, "", "", "")..)? {
                        let (k, _) = row?;
                        let k = k.value();
                        if (k.0, k.1) != (id, s) {
                            break;
                        }
                        count += 1;
                        if first.is_none() {
                            first = Some((k.4.to_string(), stage));
                        }
                    }
                }
                if let Some((application, stage)) = first {
                    return Err(RoundError::UnderReview {
                        round: id.into(),
                        count,
                        application,
                        stage: stage.title.en.clone(),
                        stage_zh: stage.title.zh.clone(),
                    });
                }
            }
            round.status = RoundStatus::Closed;
            put_round(tx, &round)?;
            Ok(round)
        })
    }

    /// Replace the specification of a round that is not open yet.
    pub fn configure_round(&self, spec: RoundSpec) -> Result<Round, RoundError> {
        let existing = self.round(&spec.id)?;
        if existing.status != RoundStatus::Configured {
            return Err(RoundError::Frozen { round: spec.id, status: existing.status });
        }
        if spec.program != existing.spec.program || spec.plugin_version != existing.spec.plugin_version {
            let f = blocking(
                "round.pinned-plugin",
                "$.plugin_version",
                "轮次已绑定插件，不能更换".into(),
                "a round's plugin is pinned and cannot change".into(),
            );
            return Err(RoundError::Invalid { findings: vec![f] });
        }
        let round = self.sound_round(&spec)?;
        self.write(|tx| {
            // Checked again in the transaction that writes: a round opened meanwhile
            // keeps its rules.
            let stored: Round =
                ROUNDS.open(tx)?.get(spec.id.as_str())?.ok_or_else(|| RoundError::NotFound(spec.id.clone()))?;
            if stored.status != RoundStatus::Configured {
                return Err(RoundError::Frozen { round: spec.id.clone(), status: stored.status });
            }
            put_round(tx, &round)?;
            Ok(round)
        })
    }

    /// A city's own settings (applicant window, district review and deadline) in an
    /// open round, checked against the province's window. Only that city changes.
    pub fn configure_city(&self, round_id: &str, city: &str, cfg: CityConfig) -> Result<Round, RoundError> {
        let mut round = self.round(round_id)?;
        if round.status == RoundStatus::Closed {
            return Err(RoundError::Frozen { round: round_id.into(), status: round.status });
        }
        let mut spec = round.spec.clone();
        spec.cities.insert(city.to_string(), cfg.clone());
        let (_, findings) = self.check_round_spec(&spec)?;
        let mine: Vec<_> = findings.into_iter().filter(|f| f.severity == Severity::Blocking).collect();
        if !mine.is_empty() {
            return Err(RoundError::Invalid { findings: mine });
        }
        round = self.write(|tx| {
            let mut stored: Round =
                ROUNDS.open(tx)?.get(round_id)?.ok_or_else(|| RoundError::NotFound(round_id.into()))?;
            if stored.status == RoundStatus::Closed {
                return Err(RoundError::Frozen { round: round_id.into(), status: stored.status });
            }
            stored.spec.cities.insert(city.to_string(), cfg.clone());
            put_round(tx, &stored)?;
            Ok(stored)
        })?;
        Ok(round)
    }
}
