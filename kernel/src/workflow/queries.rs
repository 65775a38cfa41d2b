//! Reads: applications (and which a user may see), applicant history, decision
//! records, quota use, reviewers' queues (through the access policy's reach), overdue
//! lists.

use super::*;

impl Kernel {
    /// The actions `user_id` may take on `app_id` now, decided by the same code as
    /// [`Kernel::act`]: each action of the graph at the application's stage is run
    /// through the engine on the stored state in a write transaction that is then
    /// dropped (nothing is written). An action refused only for what the request
    /// must still carry (an opinion, a score, experts, a rank, warnings to confirm)
    /// is available, with those named in `needs`; any other refusal is listed under
    /// `refused` for actions of the user's roles. The submission check is not run
    /// here (`runs_check`): `act` runs it.
    ///
    /// # Errors
    /// `not_found` for a missing user or an application it may not see; storage errors.
    pub fn actions_for(&self, user_id: &str, app_id: &str) -> Result<ActionOptions, ActError> {
        let user = self.user(user_id)?.ok_or_else(|| ActError::NotFound { what: "user", id: user_id.into() })?;
        let app = self.application_as(&user, app_id)?;
        let round = self.round(&app.round)?;
        let mut out = ActionOptions { stage: app.state.stage.clone(), available: Vec::new(), refused: Vec::new() };
        // One write transaction, never committed: the engine decides on exactly what
        // `act` would read; after an attempt that was accepted (and so wrote), the
        // transaction goes back to its savepoint. The writer is taken once per call,
        // for a time bounded by the actions at this stage.
        let save = |e: redb::SavepointError| StoreError::from(redb::Error::from(e));
        let mut tx = self.db().begin_write()?;
        let start = tx.ephemeral_savepoint().map_err(save)?;
        for action in round.graph.actions.iter().filter(|a| a.from_stages.contains(&app.state.stage)) {
            let mine = action.roles.iter().any(|r| user.grants.iter().any(|g| &g.role == r));
            let mut needs = Vec::new();
            let mut req = ActionRequest { action: action.id.clone(), ..Default::default() };
            // Fill in, one at a time, what the request alone lacks; what is left is
            // the state's answer.
            let verdict = loop {
                let mut wrote = false;
                let r = ActTables::open(&tx).map_err(ActError::from).and_then(|mut tables| {
                    self.apply_in(&mut tables, &user, Some(app_id), None, &req, None, None, &mut |_| {}, &mut wrote)
                });
                if wrote {
                    tx.restore_savepoint(&start).map_err(save)?;
                }
                let need = match &r {
                    Err(ActError::Refused(Refusal::OpinionRequired { .. })) => "opinion",
                    Err(ActError::Refused(Refusal::MissingPayload { what, .. })) => match what.as_str() {
                        "score" => "score",
                        "experts" => "experts",
                        "rank" => "rank",
                        _ => break r.map(|_| ()),
                    },
                    Err(ActError::Refused(Refusal::UnconfirmedWarnings { .. })) => "confirm",
                    _ => break r.map(|_| ()),
                };
                if needs.iter().any(|n| n == need) {
                    break r.map(|_| ());
                }
                needs.push(need.to_string());
                match need {
                    "opinion" => req.opinion = Some("…".into()),
                    "score" => req.payload.score = Some(0.0),
                    "rank" => req.payload.rank = Some(1),
                    "experts" => {
                        // Assigning needs a user who holds the expert role: ask the
                        // engine with one (none at all: refused as `act` would be).
                        match self.any_expert()? {
                            Some(e) => req.payload.experts = vec![e],
                            None => break r.map(|_| ()),
                        }
                    }
                    _ => {
                        req.payload.confirm = app.state.warnings.clone();
                    }
                }
            };
            // Asked without a check: an action that runs one is refused for that
            // alone when everything else would accept it.
            let verdict = match verdict {
                Err(ActError::Refused(Refusal::CheckNotRun { .. })) if action.runs_check => Ok(()),
                other => other,
            };
            match verdict {
                Ok(()) => out.available.push(ActionOption {
                    id: action.id.clone(),
                    title: action.title.clone(),
                    kind: action.kind,
                    batch: action.batch,
                    needs,
                    runs_check: action.runs_check,
                }),
                Err(ActError::Refused(r)) if mine => out.refused.push(RefusedAction {
                    id: action.id.clone(),
                    title: action.title.clone(),
                    code: r.code().to_string(),
                    message: r.to_string(),
                }),
                Err(ActError::Refused(_)) => {}
                Err(e) => return Err(e),
            }
        }
        drop(start);
        tx.abort()?;
        Ok(out)
    }

    /// The application `id` if `user` may see it (the access policy's
    /// [`may_see`](crate::engine::access::may_see)), read in one transaction with its
    /// round and applicant; one it may not see is [`ActError::NotFound`], exactly like
    /// a missing one.
    ///
    /// # Errors
    /// `not_found` for a missing or invisible application; storage errors.
    ///
    /// What it shows depends on the user's [`Disclosure`](crate::engine::access::Disclosure):
    /// the public notice shows the unit, project, direction, stage and the fields the
    /// program marks `"x-public": true`; below the province, expert identities and
    /// individual scores are removed.
    pub fn application_as(&self, user: &User, id: &str) -> Result<Application, ActError> {
        Ok(self.disclosed_as(user, id)?.0)
    }

    /// The handling record (办理记录) of `id` as `user` may read it: below the
    /// province without expert identities and individual scores (an expert keeps its
    /// own); not part of the public notice.
    ///
    /// # Errors
    /// `not_found` for a missing or invisible application; `forbidden` for a user who
    /// sees only the public notice; storage errors.
    pub fn decisions_as(&self, user: &User, id: &str) -> Result<Vec<Decision>, ActError> {
        let (_, level) = self.disclosed_as(user, id)?;
        if !crate::engine::access::shows_record(level) {
            return Err(ActError::Refused(Refusal::Forbidden {
                action: "decisions".into(),
                title: "查看办理记录".into(),
                reason_zh: "办理记录不属于公示内容".into(),
                reason: "the handling record is not part of the public notice".into(),
            }));
        }
        let mut ds = self.decisions_of(id)?;
        for d in &mut ds {
            crate::engine::access::redact_decision(d, level, &user.id);
        }
        Ok(ds)
    }

    fn disclosed_as(
        &self,
        user: &User,
        id: &str,
    ) -> Result<(Application, crate::engine::access::Disclosure), ActError> {
        let hidden = || ActError::NotFound { what: "application", id: id.to_string() };
        let tx = self.begin_read()?;
        let mut app: Application = APPS.open(&tx)?.get(id)?.ok_or_else(hidden)?;
        let round = self.round_read(&tx, &app.round)?.ok_or_else(hidden)?;
        let org: Organisation = ORGS.open(&tx)?.get(app.applicant.as_str())?.ok_or_else(hidden)?;
        let level = crate::engine::access::disclosure(user, &app, &round, &org).ok_or_else(hidden)?;
        self.redact(&mut app, level, &user.id, &round);
        Ok((app, level))
    }

    /// `app` (of `round`) as `user` may read it, or `None` when it may not see it.
    ///
    /// # Errors
    /// Storage errors reading the applicant.
    pub fn disclose(&self, user: &User, app: Application, round: &Round) -> Result<Option<Application>, StoreError> {
        let Some(org) = self.read::<Organisation>(ORGS, &app.applicant)? else { return Ok(None) };
        Ok(self.disclose_to(user, app, round, &org))
    }

    /// [`Kernel::disclose`] with the applicant already read.
    fn disclose_to(&self, user: &User, mut app: Application, round: &Round, org: &Organisation) -> Option<Application> {
        let level = crate::engine::access::disclosure(user, &app, round, org)?;
        self.redact(&mut app, level, &user.id, round);
        Some(app)
    }

    /// The id of some user holding the expert role (专家), if any.
    fn any_expert(&self) -> Result<Option<String>, StoreError> {
        Ok(self
            .users()?
            .into_iter()
            .find(|u| u.grants.iter().any(|g| g.role == "expert" && g.scope == crate::model::Scope::Expert))
            .map(|u| u.id))
    }

    /// Redact `app` to `level` for `viewer`, with the program's public fields.
    pub(crate) fn redact(
        &self,
        app: &mut Application,
        level: crate::engine::access::Disclosure,
        viewer: &str,
        round: &Round,
    ) {
        use crate::engine::access::Disclosure;
        if level == Disclosure::Full {
            return;
        }
        // Only the notice needs the program's public fields (and so its forms).
        let loaded = (level == Disclosure::Notice).then(|| self.plugin_by_sha(&round.plugin.sha256).ok()).flatten();
        let public = loaded.as_ref().map_or(&[][..], |l| l.forms().public_fields(&app.form));
        crate::engine::access::redact_application(app, level, viewer, public);
    }

    /// A receipt as its actor may read it (the actor may see less after acting, e.g.
    /// once an objection ends the notice: then what the notice showed).
    pub(super) fn redact_receipt(&self, r: &mut Receipt, user: &User, round: &Round, org: &Organisation) {
        use crate::engine::access::{Disclosure, disclosure, redact_decision};
        let level = disclosure(user, &r.application, round, org).unwrap_or(Disclosure::Notice);
        self.redact(&mut r.application, level, &user.id, round);
        redact_decision(&mut r.decision, level, &user.id);
        if level == Disclosure::Notice {
            r.decision.check = None;
        }
    }

    /// Replayed receipts as `user_id` may read them now.
    pub(super) fn redact_replayed(&self, user_id: &str, rs: &mut [Receipt]) -> Result<(), ActError> {
        let Some(user) = self.user(user_id)? else { return Ok(()) };
        for r in rs {
            let round = self.round_arc(&r.application.round)?;
            let org: Option<Organisation> = self.read(ORGS, &r.application.applicant)?;
            if let Some(org) = org {
                self.redact_receipt(r, &user, &round, &org);
            }
        }
        Ok(())
    }

    pub fn application(&self, id: &str) -> Result<Application, ActError> {
        self.read(APPS, id)?.ok_or_else(|| ActError::NotFound { what: "application", id: id.into() })
    }

    /// Applications of an applicant, in every round.
    pub fn applications_of(&self, credit_code: &str) -> Result<Vec<Application>, StoreError> {
        let tx = self.begin_read()?;
        let idx = tx.open_table(BY_APPLICANT)?;
        let apps = APPS.open(&tx)?;
        let mut out = Vec::new();
        for row in idx.range((credit_code, "", "")..)? {
            let (k, _) = row?;
            let (code, _, id) = k.value();
            if code != credit_code {
                break;
            }
            if let Some(app) = apps.get(id)? {
                out.push(app);
            }
        }
        Ok(out)
    }

    /// The applicant's other applications (all but `except`) as a check shows them to
    /// the plugin, from one read transaction.
    ///
    /// # Errors
    /// Storage errors; [`StoreError::Corrupt`] for an indexed application or round
    /// that is missing.
    pub fn history_of(&self, credit_code: &str, except: &str) -> Result<Vec<HistoryEntry>, StoreError> {
        let tx = self.begin_read()?;
        history_from(
            &tx.open_table(BY_APPLICANT)?,
            &APPS.open(&tx)?,
            |round| Ok(self.round_read(&tx, round)?.map(|r| r.spec.year)),
            credit_code,
            except,
        )
    }

    /// Every application of a round, through the queue index (which holds each
    /// application of the round exactly once).
    pub fn applications_in(&self, round: &str) -> Result<Vec<Application>, StoreError> {
        let tx = self.begin_read()?;
        let queue = tx.open_table(QUEUE)?;
        let apps = APPS.open(&tx)?;
        let mut out = Vec::new();
        for row in queue.range((round, "", "", "", "")..)? {
            let (k, _) = row?;
            let k = k.value();
            if k.0 != round {
                break;
            }
            if let Some(app) = apps.get(k.4)? {
                out.push(app);
            }
        }
        out.sort_by(|a: &Application, b| a.id.cmp(&b.id));
        Ok(out)
    }

    /// The decisions on one application, in order (the handling record, 办理记录).
    pub fn decisions_of(&self, app_id: &str) -> Result<Vec<Decision>, StoreError> {
        let tx = self.begin_read()?;
        let idx = tx.open_table(DECISIONS_BY_APP)?;
        let log = DECISIONS.open(&tx)?;
        let mut out = Vec::new();
        for row in idx.range((app_id, 0u64)..=(app_id, u64::MAX))? {
            let (k, _) = row?;
            let i = k.value().1;
            if let Some(d) = log.get(i)? {
                out.push(d);
            }
        }
        Ok(out)
    }

    /// Number of decisions in the log.
    pub fn decision_count(&self) -> Result<u64, StoreError> {
        let tx = self.begin_read()?;
        let t = tx.open_table(DECISIONS.raw())?;
        Ok(t.last()?.map_or(0, |(k, _)| k.value() + 1))
    }

    pub fn decision(&self, index: u64) -> Result<Option<Decision>, StoreError> {
        let tx = self.begin_read()?;
        DECISIONS.open(&tx)?.get(index)
    }

    /// Units used per quota and scope in a round.
    pub fn quota_usage(&self, round: &str) -> Result<Vec<(String, String, u32)>, StoreError> {
        let tx = self.begin_read()?;
        let t = tx.open_table(QUOTA_USED)?;
        let mut out = Vec::new();
        for row in t.range((round, "", "")..)? {
            let (k, v) = row?;
            let (r, q, s) = k.value();
            if r != round {
                break;
            }
            out.push((q.to_string(), s.to_string(), v.value()));
        }
        Ok(out)
    }

    /// What waits for `user` in `round`: applications at the stages its grants
    /// handle, within its scope, ordered by (stage, city, district, application).
    /// Pages: pass the last item of a page as `after` to get the next `limit` items.
    /// The pending list of [`Kernel::queue_page`].
    ///
    /// # Errors
    /// `not_found` for a missing user or round; storage errors.
    pub fn queue(
        &self,
        user_id: &str,
        round_id: &str,
        after: Option<&QueueItem>,
        limit: usize,
    ) -> Result<Vec<QueueItem>, ActError> {
        let q = QueueQuery { after: after.cloned(), limit, ..QueueQuery::default() };
        self.queue_page(user_id, round_id, &q)
    }

    /// A page of one of `user`'s lists in `round` (审核队列的页签, see
    /// [`QueueView`](crate::engine::access::QueueView)): pending (待审核, from the
    /// queue index, in (stage, city, district, application) order, optionally one
    /// stage), or the applications it handled that were recommended on, returned to
    /// the applicant or not recommended (each in (city, district, application)
    /// order, among those it may see). Each row carries the applicant's name, the
    /// project, submission time, due date and whether it is overdue.
    ///
    /// # Errors
    /// `not_found` for a missing user or round; storage errors.
    pub fn queue_page(&self, user_id: &str, round_id: &str, query: &QueueQuery) -> Result<Vec<QueueItem>, ActError> {
        use crate::engine::access::QueueView;
        let user = self.user(user_id)?.ok_or_else(|| ActError::NotFound { what: "user", id: user_id.into() })?;
        let round = self.round_arc(round_id)?;
        let mut rows = if query.view == QueueView::Pending {
            self.pending_keys(&user, &round, query)?
        } else {
            self.handled_keys(&user, &round, query)?
        };
        // What a reviewer reads in each row.
        let forms = self.plugin_by_sha(&round.plugin.sha256).ok();
        let now = self.now();
        let today = now.local_date();
        for row in &mut rows {
            let Some(app) = self.read::<Application>(APPS, &row.application)? else { continue };
            let org = self.org(&app.applicant)?;
            // The stage's window closes for this applicant (a district deadline …),
            // unless a correction period keeps it open longer.
            let window = round.graph.stages.iter().find(|s| s.id == app.state.stage).and_then(|s| s.window.as_deref());
            let closes = app
                .state
                .correction_until
                .or_else(|| org.as_ref().zip(window).and_then(|(o, w)| crate::engine::window_end(&round, o, w)));
            row.due = [app.state.deadline, app.state.due, closes.map(|t| t.local_date())].into_iter().flatten().min();
            row.overdue = is_overdue(&app.state, today) || closes.is_some_and(|t| now > t);
            row.applicant_name = org.map(|o| o.name);
            row.project_name = forms.as_ref().and_then(|l| l.forms().project_name(&app.form, &app.data.to_value()));
            row.direction = app.direction.clone();
            row.submitted_at = app.submitted_at;
            row.applicant = app.applicant;
        }
        Ok(rows)
    }

    /// A handled list's page (已推荐 / 退回待提交 / 不受理, see [`Kernel::queue_page`]):
    /// for each stage `user` reviews, the key range of that list in the handled index
    /// ([`HANDLED`]) within the user's reach there (as the pending queue's), merged in
    /// (city, district, application) order, keeping only the page — the `limit` first
    /// after the cursor. An entry is checked against its application's state (read
    /// without the form data; an entry can outlive its truth, see [`HANDLED`]) and
    /// the access policy; a range is left as soon as its keys cannot enter the page.
    /// Work and memory are the page's, not the round's.
    fn handled_keys(&self, user: &User, round: &Round, query: &QueueQuery) -> Result<Vec<QueueItem>, ActError> {
        use super::StateOf;
        use crate::engine::access::{handled_view, may_see, reviewing_stages};
        type Key = (String, String, String);
        if query.limit == 0 {
            return Ok(Vec::new());
        }
        let mine = reviewing_stages(user, round);
        let reach = self.reach(user)?;
        let round_id = round.spec.id.as_str();
        let list = super::view_key(query.view);
        let tx = self.begin_read()?;
        let handled = tx.open_table(HANDLED)?;
        let apps = APPS.open(&tx)?;
        let orgs = ORGS.open(&tx)?;
        let cursor: Option<(&str, &str, &str)> =
            query.after.as_ref().map(|a| (a.city.as_str(), a.district.as_str(), a.application.as_str()));
        // The page so far in key order, each entry's current stage beside it.
        let mut page: std::collections::BTreeMap<Key, String> = std::collections::BTreeMap::new();
        for stage in round.graph.stages.iter().filter(|s| mine.contains(&s.id.as_str())) {
            for p in reach_at(&reach, round, stage) {
                let (lo, hi) = prefix_bounds(&p);
                let lo = match cursor {
                    Some(c) if c > lo => c,
                    _ => lo,
                };
                if lo >= hi {
                    continue;
                }
                let s = stage.id.as_str();
                for row in
                    handled.range((round_id, s, list, lo.0, lo.1, lo.2)..(round_id, s, list, hi.0, hi.1, hi.2))?
                {
                    let (k, _) = row?;
                    let (_, _, _, city, district, id) = k.value();
                    let key = (city, district, id);
                    if cursor.is_some_and(|c| c >= key) {
                        continue;
                    }
                    if page.len() >= query.limit
                        && page
                            .last_key_value()
                            .is_some_and(|((c, d, a), _)| (c.as_str(), d.as_str(), a.as_str()) <= key)
                    {
                        break;
                    }
                    let owned = (city.to_string(), district.to_string(), id.to_string());
                    if page.contains_key(&owned) {
                        continue;
                    }
                    let Some(StateOf { state }) = apps.get_part(id)? else { continue };
                    if handled_view(&mine, round, &state) != Some(query.view)
                        || query.stage.as_ref().is_some_and(|only| *only != state.stage)
                    {
                        continue;
                    }
                    // Only an application in the list is read whole, for the access policy.
                    let Some(app) = apps.get(id)? else { continue };
                    let Some(org) = orgs.get(app.applicant.as_str())? else { continue };
                    if !may_see(user, &app, round, &org) {
                        continue;
                    }
                    page.insert(owned, state.stage);
                    if page.len() > query.limit {
                        page.pop_last();
                    }
                }
            }
        }
        Ok(page
            .into_iter()
            .map(|((city, district, application), stage)| QueueItem {
                application,
                stage,
                city,
                district,
                ..QueueItem::default()
            })
            .collect())
    }

    /// Each of `user`'s grants' role with the (city, district) key prefix it reaches
    /// (the access policy's [`queue_reach`](crate::engine::access::queue_reach)): `None`
    /// for a province-wide grant.
    ///
    /// # Errors
    /// Storage errors reading a district's region.
    fn reach(&self, user: &User) -> Result<Vec<(String, Prefix)>, StoreError> {
        let mut parents = std::collections::HashMap::new();
        for g in &user.grants {
            if let Scope::District(d) = &g.scope {
                if let Some(city) = self.region(d)?.and_then(|r| r.parent) {
                    parents.insert(d.clone(), city);
                }
            }
        }
        Ok(crate::engine::access::queue_reach(user, |d| parents.get(d).cloned())
            .into_iter()
            .map(|(role, r)| {
                let p = match r {
                    crate::engine::access::Reach::Province => (None, None),
                    crate::engine::access::Reach::City(c) => (Some(c), None),
                    crate::engine::access::Reach::District { city, district } => (Some(city), Some(district)),
                };
                (role.to_string(), p)
            })
            .collect())
    }

    /// The pending list's keys from the queue index (see [`Kernel::queue_page`]).
    fn pending_keys(&self, user: &User, round: &Round, query: &QueueQuery) -> Result<Vec<QueueItem>, ActError> {
        let (round_id, after, limit) = (round.spec.id.as_str(), query.after.as_ref(), query.limit);
        if limit == 0 {
            return Ok(Vec::new());
        }
        let reach = self.reach(user)?;
        let tx = self.begin_read()?;
        let q = tx.open_table(QUEUE)?;
        let mut out: Vec<QueueItem> = Vec::new();
        // Stages in graph order, each with the (city, district) prefixes the grants reach there.
        for (stage_pos, stage) in round.graph.stages.iter().enumerate() {
            if query.stage.as_ref().is_some_and(|only| *only != stage.id) {
                continue;
            }
            if let Some(a) = after {
                // Skip stages before the cursor's.
                let cursor_pos = round.graph.stages.iter().position(|s| s.id == a.stage).unwrap_or(0);
                if stage_pos < cursor_pos {
                    continue;
                }
            }
            let s = stage.id.as_str();
            for p in reach_at(&reach, round, stage) {
                let full = places_after(&q, round_id, s, &p, after, &mut |place| {
                    out.push(place);
                    Ok(out.len() >= limit)
                })?;
                if full {
                    return Ok(out);
                }
            }
        }
        Ok(out)
    }

    /// A page of the round's applications `user` may see, each redacted to what it
    /// may read ([`Kernel::disclose`]), in the queue index's order — stages in the
    /// graph's order, then city, district and application — after `after`; a
    /// page's last item's [`QueueItem::cursor`] continues it. Each item comes with its
    /// place in that order.
    ///
    /// Reads the queue index's ranges the user's grants could see something in — a
    /// city's or district's prefix for its grants there, the whole stage for a
    /// province, expert or organisation grant, and for the public only the stages
    /// its actions (or anyone's, the public notice) start from — and decodes one
    /// application at a time, each checked with the access policy: a page's memory,
    /// never the round's. (What it reads is every key of those ranges until the page
    /// is full: an expert's few assignments are found among the round's.)
    ///
    /// # Errors
    /// Storage errors.
    pub fn applications_page(
        &self,
        user: &User,
        round: &Round,
        after: Option<&QueueItem>,
        limit: usize,
    ) -> Result<Vec<(QueueItem, Application)>, StoreError> {
        use crate::contract::ScopeLevel;
        if limit == 0 {
            return Ok(Vec::new());
        }
        let round_id = round.spec.id.as_str();
        let anywhere = user.grants.iter().any(|g| match &g.scope {
            Scope::Expert | Scope::Organisation(_) => true,
            Scope::Province => g.role != "public",
            _ => false,
        });
        let mut regions: Vec<Prefix> = Vec::new();
        for (role, p) in self.reach(user)? {
            if role != "public" && !regions.contains(&p) {
                regions.push(p);
            }
        }
        // A district inside a city already read is read with it.
        let cities: Vec<String> = regions.iter().filter(|p| p.1.is_none()).filter_map(|p| p.0.clone()).collect();
        regions.retain(|p| p.1.is_none() || !p.0.as_ref().is_some_and(|c| cities.contains(c)));
        regions.sort();
        let tx = self.begin_read()?;
        let q = tx.open_table(QUEUE)?;
        let apps = APPS.open(&tx)?;
        let orgs = ORGS.open(&tx)?;
        let mut org_of: std::collections::HashMap<String, Option<Organisation>> = Default::default();
        let cursor_pos = after.map(|a| round.graph.stages.iter().position(|s| s.id == a.stage).unwrap_or(0));
        let whole: Vec<Prefix> = vec![(None, None)];
        let mut out = Vec::new();
        for (stage_pos, stage) in round.graph.stages.iter().enumerate() {
            if cursor_pos.is_some_and(|c| stage_pos < c) {
                continue;
            }
            let s = stage.id.as_str();
            let public_here = round.graph.actions.iter().any(|a| {
                a.from_stages.iter().any(|f| f == s)
                    && (a.scope == ScopeLevel::Public
                        || user.grants.iter().any(|g| g.scope == Scope::Public && a.roles.contains(&g.role)))
            });
            for p in if anywhere || public_here { &whole } else { &regions } {
                let full = places_after(&q, round_id, s, p, after, &mut |place| {
                    // The state alone rules most out (drafts never submitted, an
                    // expert's unassigned ones) before the record is decoded whole.
                    let Some(StateOf { state }) = apps.get_part(place.application.as_str())? else { return Ok(false) };
                    if !crate::engine::access::might_see(user, &state, round) {
                        return Ok(false);
                    }
                    let Some(app) = apps.get(place.application.as_str())? else { return Ok(false) };
                    if !org_of.contains_key(&app.applicant) {
                        org_of.insert(app.applicant.clone(), orgs.get(app.applicant.as_str())?);
                    }
                    let Some(Some(org)) = org_of.get(&app.applicant) else { return Ok(false) };
                    let Some(app) = self.disclose_to(user, app, round, org) else { return Ok(false) };
                    out.push((place, app));
                    Ok(out.len() >= limit)
                })?;
                if full {
                    return Ok(out);
                }
            }
        }
        Ok(out)
    }

    /// Applications past their stage's SLA (working days) or rectification deadline.
    pub fn overdue(&self, round_id: &str) -> Result<Vec<Application>, StoreError> {
        let today = self.now().local_date();
        Ok(self.applications_in(round_id)?.into_iter().filter(|a| is_overdue(&a.state, today)).collect())
    }
}

/// Past the stage's due date, the rectification deadline or the yearly report's
/// due date on `today` (all inclusive: due on the day itself is not overdue).
fn is_overdue(state: &crate::model::AppState, today: shenbao_contract::Date) -> bool {
    state.due.is_some_and(|d| d < today)
        || state.deadline.is_some_and(|d| d < today)
        || state.annual_due.is_some_and(|d| d < today)
}

/// A reviewing grant's reach as a (city, district) key prefix: `(None, _)` is the
/// whole province, `(Some(city), None)` one city, `(Some(city), Some(district))` one
/// district.
type Prefix = (Option<String>, Option<String>);

/// The distinct prefixes `reach`'s grants that review at `stage` cover there, sorted;
/// a province-wide grant covers the others.
fn reach_at(reach: &[(String, Prefix)], round: &Round, stage: &shenbao_contract::Stage) -> Vec<Prefix> {
    let mut prefixes: Vec<Prefix> = Vec::new();
    for (_, p) in reach.iter().filter(|(role, _)| crate::engine::access::reviews_at(round, stage, role)) {
        if !prefixes.contains(p) {
            prefixes.push(p.clone());
        }
    }
    if prefixes.iter().any(|p| p.0.is_none()) {
        prefixes.retain(|p| p.0.is_none());
    }
    prefixes.sort();
    prefixes
}

/// Each place of the queue index at `round_id`'s stage `s` within prefix `p`, in key
/// order, past `after` when the cursor is at this stage, given to `each` until it
/// says the page is full (then `true`).
fn places_after(
    q: &redb::ReadOnlyTable<(TextKey, TextKey, TextKey, TextKey, TextKey), ()>,
    round_id: &str,
    s: &str,
    p: &Prefix,
    after: Option<&QueueItem>,
    each: &mut dyn FnMut(QueueItem) -> Result<bool, StoreError>,
) -> Result<bool, StoreError> {
    let after = after.filter(|a| a.stage == s);
    let (mut lo, hi) = prefix_bounds(p);
    if let Some(a) = after {
        let cursor = (a.city.as_str(), a.district.as_str(), a.application.as_str());
        if cursor >= lo {
            lo = cursor;
        }
    }
    if lo >= hi {
        return Ok(false);
    }
    for row in q.range((round_id, s, lo.0, lo.1, lo.2)..(round_id, s, hi.0, hi.1, hi.2))? {
        let (k, _) = row?;
        let k = k.value();
        if after.is_some_and(|a| (k.2, k.3, k.4) <= (a.city.as_str(), a.district.as_str(), a.application.as_str())) {
            continue;
        }
        let place = QueueItem {
            application: k.4.to_string(),
            stage: s.to_string(),
            city: k.2.to_string(),
            district: k.3.to_string(),
            ..QueueItem::default()
        };
        if each(place)? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The (city, district, application) bounds of a prefix's key range: from the first
/// key it covers (inclusive) to the first past it (exclusive).
fn prefix_bounds(p: &Prefix) -> ((&str, &str, &str), (&str, &str, &str)) {
    const MAX: &str = "\u{10ffff}";
    match p {
        (None, _) => (("", "", ""), (MAX, "", "")),
        (Some(c), None) => ((c.as_str(), "", ""), (c.as_str(), MAX, "")),
        (Some(c), Some(d)) => ((c.as_str(), d.as_str(), ""), (c.as_str(), d.as_str(), MAX)),
    }
}
