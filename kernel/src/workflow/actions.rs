//! Actions: drafts, `prepare` (the submission check outside the transaction) and
//! `act_prepared`, batches, idempotency keys of the library, and `apply_in` — which
//! reads the `Snapshot` inside the group commit's transaction, asks the engine and
//! carries out what it decided.

use super::*;

impl Kernel {
    /// Save a draft: a new application (`app` = None) or the same draft again.
    pub fn save_draft(
        &self,
        user_id: &str,
        round_id: &str,
        app: Option<&str>,
        draft: Draft,
    ) -> Result<Receipt, ActError> {
        self.save_draft_keyed(user_id, round_id, app, draft, None)
    }

    /// [`Kernel::save_draft`] under an idempotency key: a repeated key with the same
    /// request returns the first result (no second application); with a different
    /// request it is refused.
    pub fn save_draft_idempotent(
        &self,
        user_id: &str,
        round_id: &str,
        app: Option<&str>,
        draft: Draft,
        key: &str,
    ) -> Result<Receipt, ActError> {
        self.save_draft_keyed(user_id, round_id, app, draft, Some(key))
    }

    pub(super) fn save_draft_keyed(
        &self,
        user_id: &str,
        round_id: &str,
        app: Option<&str>,
        draft: Draft,
        key: Option<&str>,
    ) -> Result<Receipt, ActError> {
        let digest = request_digest(&("save-draft", round_id, app, &draft));
        let keyed = key.map(|key| Keyed { key, digest: &digest });
        if let Some(k) = keyed {
            if let Some(mut r) = self.replay_key(user_id, k)? {
                return Ok(r.remove(0));
            }
        }
        let user = self.user(user_id)?.ok_or_else(|| ActError::NotFound { what: "user", id: user_id.into() })?;
        let round = self.round_arc(round_id)?;
        let action = round
            .graph
            .actions
            .iter()
            .find(|a| a.kind == ActionKind::SaveDraft)
            .ok_or_else(|| ActError::Refused(Refusal::UnknownAction { action: "save-draft".into() }))?
            .id
            .clone();
        let existing = app.map(|id| self.application(id)).transpose()?;
        // A draft is saved into the round it names: an application of another round
        // is not found in this one.
        if let Some(a) = existing.as_ref().filter(|a| a.round != round_id) {
            return Err(ActError::NotFound { what: "application", id: a.id.clone() });
        }
        // The applicant is the organisation the user acts for.
        let applicant = match &existing {
            Some(a) => a.applicant.clone(),
            None => user
                .grants
                .iter()
                .find_map(|g| match &g.scope {
                    Scope::Organisation(o) => Some(o.clone()),
                    _ => None,
                })
                .ok_or_else(|| {
                    ActError::Refused(Refusal::Forbidden {
                        action: action.clone(),
                        title: "保存草稿".into(),
                        reason_zh: format!("用户 {user_id} 不代表任何申报单位"),
                        reason: format!("{user_id} does not act for an organisation"),
                    })
                })?,
        };
        let direction = draft.direction.clone();
        if let Some(d) = &direction {
            if !round.directions.iter().any(|x| &x.id == d) {
                return Err(ActError::UnknownDirection {
                    direction: d.clone(),
                    open: round.directions.iter().map(|x| x.id.as_str()).collect::<Vec<_>>().join(", "),
                });
            }
        }
        // The form: the one named, which must be the direction's (or, without a
        // direction, one of the program's); else the direction's; else the first.
        let forms: Vec<String> = match direction.as_ref().and_then(|d| round.directions.iter().find(|x| &x.id == d)) {
            Some(d) => vec![d.form.clone()],
            None => self
                .plugin_record(&round.plugin.program, &round.plugin.version)
                .map_err(CheckError::from)?
                .manifest
                .forms
                .iter()
                .map(|f| f.id.clone())
                .collect(),
        };
        let form = match &draft.form {
            Some(f) if forms.contains(f) => f.clone(),
            Some(f) => return Err(ActError::Check(CheckError::UnknownForm { form: f.clone(), known: forms })),
            None => forms.first().cloned().unwrap_or_default(),
        };
        // Each attachment of a draft has its own id, and a name people can read (no
        // control or bidirectional-control characters: “gnp.exe” must not read “exe.png”).
        let mut ids = std::collections::BTreeSet::new();
        for a in &draft.attachments {
            let bad_text = [&a.name, &a.id, &a.kind, &a.media_type]
                .iter()
                .any(|t| t.chars().any(crate::engine::text::is_unsafe) || t.chars().count() > 255);
            if bad_text || a.name.trim().is_empty() {
                return Err(ActError::BlockingFindings {
                    findings: vec![Finding {
                        rule_id: "attachment.name-unreadable".into(),
                        severity: Severity::Blocking,
                        path: "$".into(),
                        message: Text::new(
                            format!(
                                "附件“{}”的名称、编号或类型为空、过长（超过 255 个字符）或含控制字符、双向控制字符，请改名后重新上传",
                                crate::text::display(&a.name)
                            ),
                            format!(
                                "attachment {:?}: its name, id, kind or media type is empty, longer than 255 characters, \
                                 or holds control or bidirectional-control characters; rename it and attach it again",
                                a.name.chars().take(80).collect::<String>()
                            ),
                        ),
                    }],
                });
            }
            if !ids.insert(a.id.as_str()) {
                return Err(ActError::BlockingFindings {
                    findings: vec![Finding {
                        rule_id: "attachment.id-unique".into(),
                        severity: Severity::Blocking,
                        path: "$".into(),
                        message: Text::new(
                            format!("附件编号“{}”重复，每个附件须有自己的编号", crate::text::display(&a.id)),
                            format!("attachment id {:?} appears twice; each attachment has its own id", a.id),
                        ),
                    }],
                });
            }
        }
        // Every attachment names stored content of the stated size, that this user
        // uploaded or that is already on the application (issue 15.1).
        for a in &draft.attachments {
            if !crate::attachments::is_address(&a.sha256) {
                return Err(
                    crate::attachments::BlobError::BadAddress { sha256: a.sha256.chars().take(80).collect() }.into()
                );
            }
            let on_app = existing.as_ref().is_some_and(|e| e.attachments.iter().any(|x| x.sha256 == a.sha256));
            if !on_app && !self.uploaded_by(&a.sha256, user_id)? {
                return Err(crate::attachments::BlobError::Unknown { sha256: a.sha256.clone() }.into());
            }
            self.blobs().verify(a)?;
        }
        // The project key: given by the caller, else the field the form marks `x-project-key`.
        let project = match &draft.project {
            Some(p) => Some(shenbao_contract::project_key(p)),
            None => self
                .plugin_by_sha(&round.plugin.sha256)
                .ok()
                .and_then(|loaded| loaded.forms().project_key(&form, &draft.data)),
        };
        let req = ActionRequest::new(&action);
        let create = if app.is_none() { Some((&*round, applicant.as_str())) } else { None };
        self.transact(&user, app, create, &req, None, keyed, |a| {
            a.direction = direction.clone();
            a.form = form.clone();
            a.data = FormData::from_value(&draft.data);
            a.project = project.clone();
            a.attachments = draft.attachments.clone();
            a.saves += 1;
        })
    }

    /// The check request for an application as it stands.
    ///
    /// # Errors
    /// Storage errors reading the applicant's history.
    pub fn check_request(
        &self,
        app: &Application,
        round: &Round,
        org: &Organisation,
    ) -> Result<CheckRequest, StoreError> {
        let history = self.history_of(&app.applicant, &app.id)?;
        Ok(check_request_of(app, round, org, history, self.now().local_date()))
    }

    /// Take an action on an application.
    pub fn act(&self, user_id: &str, app_id: &str, req: &ActionRequest) -> Result<Receipt, ActError> {
        self.act_keyed(user_id, app_id, req, None)
    }

    /// [`Kernel::act`] under an idempotency key, recorded in the same transaction as
    /// the decision: a retry with the same key and request returns the first decision
    /// ([`Receipt::replayed`]) and changes nothing; the same key with another request
    /// is refused ([`ActError::IdempotencyKeyReused`]).
    pub fn act_idempotent(
        &self,
        user_id: &str,
        app_id: &str,
        req: &ActionRequest,
        key: &str,
    ) -> Result<Receipt, ActError> {
        self.act_keyed(user_id, app_id, req, Some(key))
    }

    pub(super) fn act_keyed(
        &self,
        user_id: &str,
        app_id: &str,
        req: &ActionRequest,
        key: Option<&str>,
    ) -> Result<Receipt, ActError> {
        let digest = request_digest(&("act", app_id, req));
        let keyed = key.map(|key| Keyed { key, digest: &digest });
        if let Some(k) = keyed {
            if let Some(mut r) = self.replay_key(user_id, k)? {
                return Ok(r.remove(0));
            }
        }
        let p = self.prepare(user_id, app_id, req)?;
        self.transact(&p.user, Some(app_id), None, req, p.check, keyed, |_| {})
    }

    /// The first half of [`Kernel::act`], outside any transaction: the user and the
    /// application looked up and — for an action that runs the submission check —
    /// the schema, attachment and plugin checks run. Refused with
    /// [`ActError::BlockingFindings`] when the check blocks. Carry it out with
    /// [`Kernel::act_prepared`]; if anything the check read changes in between, that
    /// refuses with [`ActError::StaleCheck`].
    ///
    /// # Errors
    /// Missing user or application, a closed window, blocking findings, a plugin
    /// failure, storage errors.
    pub fn prepare(&self, user_id: &str, app_id: &str, req: &ActionRequest) -> Result<Prepared, ActError> {
        // Everything the check reads, from one read transaction.
        let tx = self.begin_read()?;
        let user: User =
            USERS.open(&tx)?.get(user_id)?.ok_or_else(|| ActError::NotFound { what: "user", id: user_id.into() })?;
        let app: Application = APPS
            .open(&tx)?
            .get(app_id)?
            .ok_or_else(|| ActError::NotFound { what: "application", id: app_id.into() })?;
        let round = self
            .round_read(&tx, &app.round)?
            .ok_or_else(|| ActError::NotFound { what: "round", id: app.round.clone() })?;
        // Submitting runs the schema validation and the plugin's check first.
        let org: Option<Organisation> = ORGS.open(&tx)?.get(app.applicant.as_str())?;
        if !org.as_ref().is_some_and(|o| engine::access::may_see(&user, &app, &round, o)) {
            return Err(ActError::NotFound { what: "application", id: app_id.into() });
        }
        let runs_check = round
            .graph
            .actions
            .iter()
            .any(|a| a.id == req.action && a.runs_check && a.from_stages.contains(&app.state.stage));
        let check = if runs_check {
            let org: Organisation = ORGS
                .open(&tx)?
                .get(app.applicant.as_str())?
                .ok_or_else(|| ActError::NotFound { what: "organisation", id: app.applicant.clone() })?;
            let history = history_from(
                &tx.open_table(BY_APPLICANT)?,
                &APPS.open(&tx)?,
                |round| Ok(self.round_read(&tx, round)?.map(|r| r.spec.year)),
                &app.applicant,
                &app.id,
            )?;
            drop(tx);
            // A closed window refuses before the plugin runs (the engine checks it again).
            let now = self.now();
            engine::stage_open(&round, &org, &app.state, now)?;
            let request = check_request_of(&app, &round, &org, history, now.local_date());
            let loaded = self.plugin_by_sha(&round.plugin.sha256).map_err(CheckError::from)?;
            let mut report = check_with(&loaded, &request)?;
            if let Some(direction) = app.direction.as_ref().and_then(|d| round.directions.iter().find(|x| &x.id == d)) {
                report.kernel_findings = crate::attachments::check(direction, &app.attachments, request.as_of);
            }
            if report.has_blocking() {
                return Err(ActError::BlockingFindings { findings: report.findings().cloned().collect() });
            }
            Some((request, report))
        } else {
            None
        };
        Ok(Prepared { user, app_id: app_id.to_string(), req: req.clone(), check })
    }

    /// Carry out a [`Prepared`] action in one write transaction (shared with
    /// concurrent actions by the group commit).
    ///
    /// # Errors
    /// [`ActError::StaleCheck`] when anything the check read changed since
    /// [`Kernel::prepare`]; the engine's refusals; storage errors. Nothing changes.
    pub fn act_prepared(&self, p: Prepared) -> Result<Receipt, ActError> {
        self.transact(&p.user, Some(&p.app_id), None, &p.req, p.check, None, |_| {})
    }

    /// The receipts an idempotency key recorded, if it was used; refused if it was
    /// used for a different request.
    pub(super) fn replay_key(&self, user_id: &str, k: Keyed<'_>) -> Result<Option<Vec<Receipt>>, ActError> {
        let tx = self.begin_read()?;
        let idem = IDEMPOTENCY.open(&tx)?;
        let log = DECISIONS.open(&tx)?;
        let apps = APPS.open(&tx)?;
        let mut out = key_receipts(&idem, &log, &apps, user_id, k)?;
        if let Some(rs) = out.as_mut() {
            self.redact_replayed(user_id, rs)?;
        }
        Ok(out)
    }

    /// Inside a write transaction: the key's earlier receipts, if any. Read through
    /// `tx`: the first request may be a batch-mate not yet committed.
    pub(super) fn key_in(
        &self,
        tables: &ActTables<'_>,
        user_id: &str,
        k: Keyed<'_>,
    ) -> Result<Option<Vec<Receipt>>, ActError> {
        let idem = IDEMPOTENCY.open(tables.tx)?;
        let mut out = key_receipts(&idem, &tables.decisions, &tables.apps, user_id, k)?;
        if let Some(rs) = out.as_mut() {
            self.redact_replayed(user_id, rs)?;
        }
        Ok(out)
    }

    pub(super) fn record_key(
        tx: &WriteTransaction,
        user_id: &str,
        k: Keyed<'_>,
        decisions: Vec<u64>,
    ) -> Result<(), StoreError> {
        let rec = IdempotencyRecord { digest: k.digest.to_string(), decisions };
        IDEMPOTENCY.open(tx)?.insert((user_id, k.key), &rec)?;
        Ok(())
    }

    /// The same action on many applications: all accepted in one transaction, or none.
    pub fn act_batch(&self, user_id: &str, app_ids: &[&str], req: &ActionRequest) -> Result<Vec<Receipt>, BatchError> {
        self.act_batch_keyed(user_id, app_ids, req, None)
    }

    /// [`Kernel::act_batch`] under an idempotency key (see [`Kernel::act_idempotent`]).
    pub fn act_batch_idempotent(
        &self,
        user_id: &str,
        app_ids: &[&str],
        req: &ActionRequest,
        key: &str,
    ) -> Result<Vec<Receipt>, BatchError> {
        self.act_batch_keyed(user_id, app_ids, req, Some(key))
    }

    pub(super) fn act_batch_keyed(
        &self,
        user_id: &str,
        app_ids: &[&str],
        req: &ActionRequest,
        key: Option<&str>,
    ) -> Result<Vec<Receipt>, BatchError> {
        let digest = request_digest(&("batch", app_ids, req));
        let keyed = key.map(|key| Keyed { key, digest: &digest });
        let wrap = |position: usize, application: &str, error: ActError| BatchError {
            position,
            application: application.into(),
            error,
        };
        let user = self
            .user(user_id)
            .map_err(|e| wrap(0, "", e.into()))?
            .ok_or_else(|| wrap(0, "", ActError::NotFound { what: "user", id: user_id.into() }))?;
        // All of it in one transaction of the group commit, or none of it: an item
        // refused after others were written abandons that transaction (batch-mates rerun).
        self.group.run(self.db(), |open| {
            open.with_dependent_mut(|tx, shared| {
                let tables = match ActTables::shared(tx, shared) {
                    Ok(t) => t,
                    Err(e) => return Step::Refused(wrap(0, "", e.into())),
                };
                if let Some(k) = keyed {
                    match self.key_in(tables, user_id, k) {
                        Ok(Some(r)) => return Step::Ok(r, false),
                        Ok(None) => {}
                        Err(e) => return Step::Refused(wrap(0, "", e)),
                    }
                }
                // A batch is named by the index of its first decision and its size: unique, in
                // log order, and a reader can tell a whole batch from a partial one.
                let first = match tables.head.get("head") {
                    Ok(head) => head.map_or(0, |v| v.value().0 + 1),
                    Err(e) => return Step::Refused(wrap(0, "", StoreError::from(e).into())),
                };
                let batch_id = format!("B{first:010}-{}", app_ids.len());
                let mut receipts = Vec::new();
                let mut wrote = false;
                for (i, id) in app_ids.iter().enumerate() {
                    let r = self.apply_in(
                        tables,
                        &user,
                        Some(id),
                        None,
                        req,
                        None,
                        Some(&batch_id),
                        &mut |_| {},
                        &mut wrote,
                    );
                    match r {
                        Ok(r) => receipts.push(r),
                        Err(e) if wrote => return Step::Spoiled(wrap(i, id, e)),
                        Err(e) => return Step::Refused(wrap(i, id, e)),
                    }
                }
                if let Some(k) = keyed {
                    let decisions = receipts.iter().map(|r| r.decision.index).collect();
                    if let Err(e) = Self::record_key(tx, user_id, k, decisions) {
                        return Step::Spoiled(wrap(app_ids.len(), "", e.into()));
                    }
                    // The key's record must be committed even for an empty batch.
                    wrote = true;
                }
                // A keyed API request's answer, in the same transaction as the decisions.
                match crate::idempotency::remember_in(tx, &receipts) {
                    Ok(stored) => wrote |= stored,
                    Err(e) => return Step::Spoiled(wrap(app_ids.len(), "", e.into())),
                }
                Step::Ok(receipts, wrote)
            })
        })
    }

    /// One action in its own write transaction.
    pub(super) fn transact(
        &self,
        user: &User,
        app_id: Option<&str>,
        create: Option<(&Round, &str)>,
        req: &ActionRequest,
        check: Option<(CheckRequest, CheckReport)>,
        keyed: Option<Keyed<'_>>,
        mut edit: impl FnMut(&mut Application) + Send,
    ) -> Result<Receipt, ActError> {
        let check = check.as_ref();
        self.group.run(self.db(), |open| {
            open.with_dependent_mut(|tx, shared| {
                let tables = match ActTables::shared(tx, shared) {
                    Ok(t) => t,
                    Err(e) => return Step::Refused(e.into()),
                };
                if let Some(k) = keyed {
                    match self.key_in(tables, &user.id, k) {
                        Ok(Some(mut r)) => return Step::Ok(r.remove(0), false),
                        Ok(None) => {}
                        Err(e) => return Step::Refused(e),
                    }
                }
                let mut wrote = false;
                let receipt = match self.apply_in(tables, user, app_id, create, req, check, None, &mut edit, &mut wrote)
                {
                    Ok(r) => r,
                    Err(e) if wrote => return Step::Spoiled(e),
                    Err(e) => return Step::Refused(e),
                };
                if let Some(k) = keyed {
                    if let Err(e) = Self::record_key(tx, &user.id, k, vec![receipt.decision.index]) {
                        return Step::Spoiled(e.into());
                    }
                }
                // A keyed API request's answer, in the same transaction as the decision.
                if let Err(e) = crate::idempotency::remember_in(tx, &receipt) {
                    return Step::Spoiled(e.into());
                }
                Step::Ok(receipt, true)
            })
        })
    }

    /// Decide and apply one action inside `tx`: engine, application, indexes, quota
    /// counters, bans and the chained decision record.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn apply_in(
        &self,
        tables: &mut ActTables<'_>,
        user: &User,
        app_id: Option<&str>,
        create: Option<(&Round, &str)>,
        req: &ActionRequest,
        check: Option<&(CheckRequest, CheckReport)>,
        batch: Option<&str>,
        edit: &mut dyn FnMut(&mut Application),
        wrote: &mut bool,
    ) -> Result<Receipt, ActError> {
        let now = self.now();
        // The reference data this action reads — the round, this year's calendar, the
        // region maps — once per transaction (a batch reads them once).
        let calendar = tables.calendar(now.local_date().year)?;
        let maps = self.region_maps_in(tables)?;
        let tx = tables.tx;
        let ActTables {
            apps: apps_t,
            orgs: orgs_t,
            bans: bans_t,
            head: head_t,
            decisions: decisions_t,
            by_app: by_app_t,
            quota: quota_t,
            queue: queue_t,
            handled: handled_t,
            applicant: applicant_t,
            counters: counters_t,
            round_versions: round_versions_t,
            ..
        } = tables;
        let mut new_app_number = None;
        let (mut app, round) = match (app_id, create) {
            (Some(id), _) => {
                let Some(app) = apps_t.get(id)? else {
                    return Err(ActError::NotFound { what: "application", id: id.into() });
                };
                let round = self
                    .round_in(tx, round_versions_t, &app.round)?
                    .ok_or_else(|| ActError::NotFound { what: "round", id: app.round.clone() })?;
                (app, round)
            }
            (None, Some((round, applicant))) => {
                let round = self
                    .round_in(tx, round_versions_t, &round.spec.id)?
                    .ok_or_else(|| ActError::NotFound { what: "round", id: round.spec.id.clone() })?;
                let n = counters_t.get("next_app")?.map_or(1, |v| v.value());
                new_app_number = Some(n);
                let app = Application {
                    id: format!("A{n:07}"),
                    round: round.spec.id.clone(),
                    program: round.spec.program.clone(),
                    applicant: applicant.to_string(),
                    direction: None,
                    form: String::new(),
                    data: FormData::null(),
                    project: None,
                    attachments: Vec::new(),
                    state: AppState::new(&round.graph.initial, now),
                    created_at: now,
                    updated_at: now,
                    submitted_at: None,
                    saves: 0,
                };
                (app, round)
            }
            (None, None) => unreachable!("an action names an application or creates one"),
        };
        let Some(org) = orgs_t.get(app.applicant.as_str())? else {
            return Err(ActError::NotFound { what: "organisation", id: app.applicant.clone() });
        };
        // An application the actor may not see answers exactly like a missing one,
        // whichever interface asks (the access policy; `decide` then authorises).
        if app_id.is_some() && !engine::access::may_see(user, &app, &round, &org) {
            return Err(ActError::NotFound { what: "application", id: app.id.clone() });
        }
        if let Some((request, _)) = &check {
            // The check ran outside the transaction: everything it read — the
            // application (data, form, attachments), the organisation's profile, its
            // history, the round, the date — must be as it was, or the check is stale.
            let history = history_from(
                &*applicant_t,
                &*apps_t,
                |round| Ok(self.round_in(tx, round_versions_t, round)?.map(|r| r.spec.year)),
                &app.applicant,
                &app.id,
            )?;
            if check_request_of(&app, &round, &org, history, now.local_date()) != *request {
                return Err(ActError::StaleCheck);
            }
        }
        let banned_until = bans_t.get((app.applicant.as_str(), round.spec.program.as_str()))?.map(|b| b.until);
        let (index, prev_hash) = {
            let h = head_t.get("head")?;
            match h {
                Some(v) => {
                    let (i, hash) = v.value();
                    (i + 1, hash.to_string())
                }
                // A log written before the head was kept: take it from the last record.
                None => match decisions_t.iter()?.next_back().transpose()? {
                    Some((k, d)) => (k.value() + 1, d.hash),
                    None => (0, GENESIS.to_string()),
                },
            }
        };
        let category = app
            .direction
            .as_ref()
            .and_then(|d| round.directions.iter().find(|x| &x.id == d))
            .and_then(|d| d.category.clone());
        // The quota counters the engine may read, each read with errors propagated
        // (a counter that cannot be read refuses the action; it is never taken as 0).
        let mut quota_used = std::collections::BTreeMap::new();
        let rid = round.spec.id.as_str();
        for (q, scope) in
            engine::quota_counters(&round, &org, &app.state, category.as_deref(), &maps.groups, &req.action)
        {
            if let Some(v) = quota_t.get((rid, q.as_str(), scope.as_str()))? {
                quota_used.insert((q, scope), v.value());
            }
        }
        // The check's warnings wait for the province's confirmation (engine::decide).
        let warnings: Option<Vec<String>> = check.map(|(_, report)| {
            let mut w: Vec<String> = Vec::new();
            for f in report.findings().filter(|f| f.severity == Severity::Warning) {
                if !w.contains(&f.rule_id) {
                    w.push(f.rule_id.clone());
                }
            }
            w
        });
        // The users the payload names (experts to assign), as stored.
        let mut named_users = std::collections::BTreeMap::new();
        if !req.payload.experts.is_empty() {
            let users_t = USERS.open(tx)?;
            for e in &req.payload.experts {
                if let Some(u) = users_t.get(e.as_str())? {
                    named_users.insert(e.clone(), u);
                }
            }
        }
        // A new application: how many the applicant already has in this round (the
        // engine bounds it, `MAX_APPLICATIONS_PER_APPLICANT`).
        let applications_in_round = match create {
            Some(_) => Some(applications_in(&*applicant_t, &app.applicant, &round.spec.id)?),
            None => None,
        };
        let snapshot = engine::Snapshot {
            round: &round,
            applicant: &org,
            state: &app.state,
            direction: app.direction.as_deref(),
            direction_category: category.as_deref(),
            calendar: &*calendar,
            city_groups: &maps.groups,
            scope_names: &maps.names,
            quota_used: &quota_used,
            banned_until,
            named_users: &named_users,
            now,
            last_decision_at: app_id.map(|_| app.updated_at),
            decision_index: index,
            applications_in_round,
        };
        let command =
            engine::Command { request: req, actor: user, batch: batch.is_some(), check_warnings: warnings.as_deref() };
        let t = engine::decide(&snapshot, &command)?;

        // Apply. Everything above only read; from here on a failure spoils the transaction.
        *wrote = true;
        if let Some(n) = new_app_number {
            counters_t.insert("next_app", n + 1)?;
        }
        let old_key = queue_key(&app, &org);
        let is_new = app_id.is_none();
        let moved = t.state.trail.len() > app.state.trail.len();
        app.state = t.state;
        app.updated_at = now;
        if t.action.kind == ActionKind::SaveDraft {
            edit(&mut app);
        }
        if t.action.kind == ActionKind::Submit {
            app.submitted_at = Some(now);
        }
        let new_key = queue_key(&app, &org);
        // A decision that does not move the application leaves its queue entry as it is.
        if is_new || new_key != old_key {
            let q = &mut *queue_t;
            if !is_new {
                q.remove((
                    old_key.0.as_str(),
                    old_key.1.as_str(),
                    old_key.2.as_str(),
                    old_key.3.as_str(),
                    old_key.4.as_str(),
                ))?;
            }
            q.insert(
                (new_key.0.as_str(), new_key.1.as_str(), new_key.2.as_str(), new_key.3.as_str(), new_key.4.as_str()),
                (),
            )?;
        }
        if moved {
            super::record_leave(handled_t, &round, &app.state, &new_key)?;
        }
        if is_new {
            applicant_t.insert((app.applicant.as_str(), app.round.as_str(), app.id.as_str()), ())?;
        }
        {
            for d in &t.quota {
                quota_t.insert((round.spec.id.as_str(), d.quota.as_str(), d.scope.as_str()), d.used_after)?;
            }
        }
        if let Some(until) = t.ban_until {
            let ban =
                Ban { applicant: app.applicant.clone(), program: round.spec.program.clone(), until, decision: index };
            bans_t.insert((app.applicant.as_str(), round.spec.program.as_str()), &ban)?;
        }
        apps_t.insert(app.id.as_str(), &app)?;

        let check_record = match &check {
            Some((request, report)) => {
                let input = to_json(request);
                let digest = sha256_hex(&input);
                tx.open_table(CHECK_INPUTS)?.insert(digest.as_str(), input.as_slice())?;
                let plugin = report.plugin.as_ref();
                Some(CheckRecord {
                    plugin_sha256: round.plugin.sha256.clone(),
                    wit: round.plugin.wit.clone(),
                    input_digest: digest,
                    findings: report
                        .schema_findings
                        .iter()
                        .chain(plugin.iter().flat_map(|p| p.value.findings.iter()))
                        .cloned()
                        .collect(),
                    kernel_findings: report.kernel_findings.clone(),
                    signals: plugin.map(|p| p.value.signals.clone()).unwrap_or_default(),
                    fuel: plugin.map_or(0, |p| p.fuel_used),
                })
            }
            None => None,
        };
        let mut decision = Decision {
            index,
            prev_hash,
            at: now,
            application: app.id.clone(),
            round: round.spec.id.clone(),
            actor: ActorRef { user: user.id.clone(), role: t.grant.role.clone(), scope: t.grant.scope.clone() },
            action: t.action.id.clone(),
            kind: t.action.kind,
            opinion: req.opinion.clone(),
            from: t.from.clone(),
            to: t.to.clone(),
            batch: batch.map(str::to_string),
            payload: req.payload.clone(),
            check: check_record,
            quota: t.quota.clone(),
            explain: t.explain.clone(),
            origin: None,
            hash: String::new(),
        };
        // The hash covers the record as it is now, with `hash` still empty.
        let sealed = seal(&mut decision);
        decisions_t.insert_encoded(index, &sealed)?;
        head_t.insert("head", (index, decision.hash.as_str()))?;
        by_app_t.insert((app.id.as_str(), index), ())?;
        let mut receipt = Receipt { decision, application: app, check: check.map(|(_, r)| r.clone()), replayed: false };
        // What leaves the kernel (and what a keyed API answer remembers) is what the actor may read.
        self.redact_receipt(&mut receipt, user, &round, &org);
        Ok(receipt)
    }
}

/// How many applications `credit_code` has in `round`, counted in the applicant
/// index (nothing decoded).
///
/// # Errors
/// Storage errors.
fn applications_in(
    index: &impl ReadableTable<(TextKey, TextKey, TextKey), ()>,
    credit_code: &str,
    round: &str,
) -> Result<u32, StoreError> {
    let mut n = 0;
    for row in index.range((credit_code, round, "")..)? {
        let (k, _) = row?;
        let (code, r, _) = k.value();
        if code != credit_code || r != round {
            break;
        }
        n += 1;
    }
    Ok(n)
}
