//! Audit: the hash chain, the indexes checked against the records, the replay of a
//! recorded check, and the benchmarks' round filler.

use super::*;

impl Kernel {
    /// Walk the decision chain; report the first record whose link or hash fails.
    pub fn verify_chain(&self) -> Result<ChainReport, StoreError> {
        let tx = self.begin_read()?;
        // Raw bytes: an undecodable record is a broken link, reported, not an error.
        let t = tx.open_table(DECISIONS.raw())?;
        let length = t.len()?;
        let mut prev = GENESIS.to_string();
        for (expected, row) in (0u64..).zip(t.iter()?) {
            let (k, v) = row?;
            let d = serde_json::from_slice::<Decision>(v.value()).ok();
            match d {
                Some(d)
                    if k.value() == expected
                        && d.index == expected
                        && d.prev_hash == prev
                        && decision_hash(&d) == d.hash =>
                {
                    prev = d.hash;
                }
                _ => return Ok(ChainReport { length, first_broken: Some(expected), head: prev }),
            }
        }
        Ok(ChainReport { length, first_broken: None, head: prev })
    }

    /// Benchmark support only: write `n` applications of `applicants` (round-robin)
    /// straight along `path` — the stages they passed after the round's initial one,
    /// the last being where they wait — with their indexes, in one transaction,
    /// WITHOUT decisions. Used to fill a database for query and memory figures; never
    /// for real data.
    #[doc(hidden)]
    pub fn __bench_fill_round(
        &self,
        round_id: &str,
        path: &[&str],
        applicants: &[Organisation],
        n: usize,
    ) -> Result<Vec<String>, StoreError> {
        let stage = *path.last().expect("a path names the stage the applications wait at");
        let round: Round = self
            .read(ROUNDS, round_id)?
            .ok_or_else(|| StoreError::Corrupt { key: round_id.into(), message: "no such round".into() })?;
        let now = self.now();
        let tx = self.db().begin_write()?;
        let mut ids = Vec::with_capacity(n);
        {
            let mut apps = APPS.open(&tx)?;
            let mut queue = tx.open_table(QUEUE)?;
            let mut handled = tx.open_table(HANDLED)?;
            let mut by = tx.open_table(BY_APPLICANT)?;
            let mut counters = tx.open_table(COUNTERS)?;
            let start = counters.get("next_app")?.map_or(1, |v| v.value());
            for i in 0..n {
                let org = &applicants[i % applicants.len()];
                let mut state = AppState::new(&round.graph.initial, now);
                state.stage = stage.to_string();
                for s in path {
                    state.trail.push(Visit { stage: s.to_string(), entered_at: now, decision: None });
                }
                let app = Application {
                    id: format!("A{:07}", start + i as u64),
                    round: round_id.to_string(),
                    program: round.spec.program.clone(),
                    applicant: org.credit_code.clone(),
                    direction: round.directions.first().map(|d| d.id.clone()),
                    form: "resource".into(),
                    data: FormData::from_value(&serde_json::json!({ "resource_name": format!("基准测试资源 {i}") })),
                    project: None,
                    attachments: Vec::new(),
                    state,
                    created_at: now,
                    updated_at: now,
                    submitted_at: Some(now),
                    saves: 1,
                };
                let (r, st, c, d, id) = queue_key(&app, org);
                queue.insert((r.as_str(), st.as_str(), c.as_str(), d.as_str(), id.as_str()), ())?;
                super::index_handled(
                    &mut handled,
                    &round,
                    &app.state,
                    (r.as_str(), c.as_str(), d.as_str(), id.as_str()),
                )?;
                by.insert((app.applicant.as_str(), round_id, app.id.as_str()), ())?;
                apps.insert(app.id.as_str(), &app)?;
                ids.push(app.id);
            }
            counters.insert("next_app", start + n as u64)?;
        }
        tx.commit()?;
        Ok(ids)
    }

    /// Check the secondary indexes and counters against the applications: one queue
    /// entry per application at its current stage, quota counters equal to the units
    /// held, every counter within its limit. Returns the problems found.
    pub fn verify_indexes(&self) -> Result<Vec<String>, StoreError> {
        let mut problems = Vec::new();
        let apps: Vec<Application> = self.read_all(APPS)?;
        let tx = self.begin_read()?;
        let queue = tx.open_table(QUEUE)?;
        let mut entries = std::collections::HashMap::<String, Vec<String>>::new();
        let mut regions = std::collections::HashMap::<String, (String, String)>::new();
        for row in queue.iter()? {
            let (k, _) = row?;
            let k = k.value();
            entries.entry(k.4.to_string()).or_default().push(k.1.to_string());
            regions.insert(k.4.to_string(), (k.2.to_string(), k.3.to_string()));
        }
        let orgs: std::collections::HashMap<String, Organisation> =
            self.read_all(ORGS)?.into_iter().map(|o| (o.credit_code.clone(), o)).collect();
        let mut held = std::collections::HashMap::<(String, String, String), u32>::new();
        for a in &apps {
            match entries.get(&a.id).map(Vec::as_slice) {
                Some([stage]) if *stage == a.state.stage => {}
                other => problems.push(format!("{}: queue entries {:?}, stage {}", a.id, other, a.state.stage)),
            }
            // Keyed under its applicant's region as it is now (`move_applications`).
            if let (Some(org), Some((c, d))) = (orgs.get(&a.applicant), regions.get(&a.id)) {
                let (want_c, want_d) = (org.city.as_deref().unwrap_or(""), org.district.as_deref().unwrap_or(""));
                if (c.as_str(), d.as_str()) != (want_c, want_d) {
                    problems.push(format!(
                        "{}: queued under {c}/{d}, but its applicant {} is in {want_c}/{want_d}",
                        a.id, a.applicant
                    ));
                }
            }
            for h in &a.state.holds {
                *held.entry((a.round.clone(), h.quota.clone(), h.scope.clone())).or_default() += 1;
            }
            if let Some(last) = a.state.trail.last() {
                if last.stage != a.state.stage {
                    problems.push(format!("{}: trail ends at {} but stage is {}", a.id, last.stage, a.state.stage));
                }
            }
        }
        // Each application agrees with its last decision and is in the applicant index
        // under its applicant: a decision is never written without the application it
        // moved, or the reverse.
        let by_app = tx.open_table(DECISIONS_BY_APP)?;
        let log = tx.open_table(DECISIONS.raw())?;
        let log_records = DECISIONS.open(&tx)?;
        let by_applicant = tx.open_table(BY_APPLICANT)?;
        let rounds: Vec<Round> = self.read_all(ROUNDS)?;
        let rounds_by_id: std::collections::HashSet<&str> = rounds.iter().map(|r| r.spec.id.as_str()).collect();
        for a in &apps {
            let last = by_app.range((a.id.as_str(), 0u64)..=(a.id.as_str(), u64::MAX))?.next_back().transpose()?;
            if let Some((k, _)) = last {
                let i = k.value().1;
                match log_records.get(i)? {
                    Some(d) => {
                        if d.to != a.state.stage || d.application != a.id {
                            problems.push(format!(
                                "{}: last decision {i} ({} → {}) disagrees with its stage {}",
                                a.id, d.application, d.to, a.state.stage
                            ));
                        }
                    }
                    None => problems.push(format!("{}: decision {i} is indexed but missing", a.id)),
                }
            }
            if by_applicant.get((a.applicant.as_str(), a.round.as_str(), a.id.as_str()))?.is_none() {
                problems.push(format!("{}: not in the applicant index under {}", a.id, a.applicant));
            }
            if !rounds_by_id.contains(a.round.as_str()) {
                problems.push(format!("{}: round {} missing", a.id, a.round));
            }
        }
        // Every handled list an application is in has its entry in the handled index
        // (more entries may stand: an entry can outlive its truth, see `HANDLED`), and
        // every entry names an application of its round.
        let handled = tx.open_table(HANDLED)?;
        let mut listed = std::collections::HashSet::<(String, String, String, String)>::new();
        let app_rounds: std::collections::HashMap<&str, &str> =
            apps.iter().map(|a| (a.id.as_str(), a.round.as_str())).collect();
        for row in handled.iter()? {
            let (k, _) = row?;
            let (r, stage, list, c, d, id) = k.value();
            if app_rounds.get(id) != Some(&r) {
                problems.push(format!("handled index: {r}/{stage}/{list} names {id}, not an application of {r}"));
            } else if regions.get(id).is_some_and(|(qc, qd)| (qc.as_str(), qd.as_str()) != (c, d)) {
                problems.push(format!("handled index: {r}/{stage}/{list} names {id} under {c}/{d}, not its region"));
            }
            listed.insert((r.to_string(), stage.to_string(), list.to_string(), id.to_string()));
        }
        for a in &apps {
            let Some(round) = rounds.iter().find(|r| r.spec.id == a.round) else { continue };
            for (stage, view) in super::handled_entries(round, &a.state) {
                let list = super::view_key(view);
                if !listed.contains(&(a.round.clone(), stage.to_string(), list.to_string(), a.id.clone())) {
                    problems.push(format!("{}: in the {list} list of {stage} but not in the handled index", a.id));
                }
            }
        }
        // … and the index names nothing else.
        let indexed = by_applicant.len()?;
        if indexed != apps.len() as u64 {
            problems.push(format!("{indexed} applicant-index entries for {} applications", apps.len()));
        }
        let (logged, indexed) = (log.len()?, by_app.len()?);
        if logged != indexed {
            problems.push(format!("{logged} decisions but {indexed} decision-by-application entries"));
        }
        if entries.len() != apps.len() {
            problems.push(format!(
                "{} queue entries for {} applications",
                entries.values().map(Vec::len).sum::<usize>(),
                apps.len()
            ));
        }
        let counters = tx.open_table(QUOTA_USED)?;
        let groups = self.city_groups()?;
        for row in counters.iter()? {
            let (k, v) = row?;
            let (r, q, scope) = k.value();
            let used = v.value();
            let h = held.remove(&(r.to_string(), q.to_string(), scope.to_string())).unwrap_or(0);
            if h != used {
                problems.push(format!("quota {r}/{q}/{scope}: counter {used}, units held {h}"));
            }
            if let Some(quota) =
                rounds.iter().find(|x| x.spec.id == r).and_then(|x| x.quotas.iter().find(|x| x.id == q))
            {
                let limit = quota
                    .limits
                    .iter()
                    .find(|l| l.scope == scope)
                    .map(|l| l.limit)
                    .or_else(|| {
                        groups.get(scope).and_then(|g| quota.limits.iter().find(|l| &l.scope == g)).map(|l| l.limit)
                    })
                    .or(quota.default_limit);
                if limit.is_some_and(|l| used > l) {
                    problems.push(format!("quota {r}/{q}/{scope}: {used} used over the limit {limit:?}"));
                }
            }
        }
        for ((r, q, scope), h) in held {
            if h > 0 {
                problems.push(format!("quota {r}/{q}/{scope}: {h} units held but no counter"));
            }
        }
        Ok(problems)
    }

    /// Re-run the check a decision recorded, against the pinned plugin bytes.
    pub fn replay(&self, index: u64) -> Result<ReplayReport, ActError> {
        let d = self.decision(index)?.ok_or_else(|| ActError::NotFound { what: "decision", id: index.to_string() })?;
        let c =
            d.check.ok_or_else(|| ActError::NotFound { what: "recorded check of decision", id: index.to_string() })?;
        let input: CheckRequest = {
            let tx = self.begin_read()?;
            let t = tx.open_table(CHECK_INPUTS)?;
            let v = t
                .get(c.input_digest.as_str())?
                // A decision records its check's input in the same transaction: one
                // missing means the database is damaged.
                .ok_or_else(|| StoreError::Corrupt {
                    key: format!("check_inputs/{}", c.input_digest),
                    message: "the recorded check's input is missing".into(),
                })?;
            if sha256_hex(v.value()) != c.input_digest {
                return Err(ActError::Store(StoreError::Corrupt {
                    key: format!("check_inputs/{}", c.input_digest),
                    message: "digest mismatch".into(),
                }));
            }
            decode(&format!("check_inputs/{}", c.input_digest), v.value())?
        };
        let loaded = self.plugin_by_sha(&c.plugin_sha256).map_err(CheckError::from)?;
        let report = check_with(&loaded, &input)?;
        let replayed: Vec<Finding> = report.findings().cloned().collect();
        let signals = report.plugin.as_ref().map(|p| p.value.signals.clone()).unwrap_or_default();
        let fuel = report.plugin.as_ref().map_or(0, |p| p.fuel_used);
        let identical =
            to_json(&replayed) == to_json(&c.findings) && to_json(&signals) == to_json(&c.signals) && fuel == c.fuel;
        Ok(ReplayReport {
            decision: index,
            recorded: c.findings,
            replayed,
            fuel_recorded: c.fuel,
            fuel_replayed: fuel,
            identical,
        })
    }
}
