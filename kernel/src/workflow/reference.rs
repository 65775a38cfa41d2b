//! Reference data: regions (and the maps of city groups and names), organisations,
//! users and their grants, working-day calendars. Each change is checked whole,
//! then written in one transaction through `Kernel::write`.

use super::*;

impl Kernel {
    /// Add or replace regions (parents first). Districts need their city. A region
    /// organisations are in keeps its kind, parent and city group (its name and the
    /// rest may change): organisations carry their city and district, the indexes
    /// key their applications by them, and a group's quota counts the units its
    /// cities' applications hold.
    ///
    /// # Errors
    /// [`AdminError::UnknownRegion`] for a parent that does not exist,
    /// [`AdminError::Invalid`] for a parent of the wrong level,
    /// [`AdminError::RegionInUse`] for a region in use that would change its kind,
    /// parent or group; nothing is written.
    pub fn import_regions(&self, regions: &[Region]) -> Result<usize, AdminError> {
        self.write(|tx| {
            let mut t = REGIONS.open(tx)?;
            let keyed = |x: &Region| (x.kind, x.parent.clone(), x.group.clone());
            for r in regions {
                if let Some(old) = t.get(r.id.as_str())?.filter(|o| keyed(o) != keyed(r)) {
                    let orgs = ORGS.open(tx)?;
                    for row in orgs.iter()? {
                        let (_, o) = row?;
                        if o.city.as_ref() == Some(&r.id) || o.district.as_ref() == Some(&r.id) {
                            return Err(AdminError::RegionInUse {
                                id: r.id.clone(),
                                parent: old.parent.unwrap_or_default(),
                                org: o.credit_code,
                            });
                        }
                    }
                }
                if let Some(p) = &r.parent {
                    let parent = match regions.iter().find(|x| &x.id == p) {
                        Some(x) => Some(x.clone()),
                        None => t.get(p.as_str())?,
                    };
                    if parent.is_none() {
                        return Err(AdminError::UnknownRegion { what: "parent region", id: p.clone() });
                    }
                    if let Some(problem) = crate::regions::parent_problem(r, parent.as_ref()) {
                        return Err(AdminError::Invalid(format!("{}: {problem}", r.id)));
                    }
                }
                t.insert(r.id.as_str(), r)?;
            }
            let mut c = tx.open_table(COUNTERS)?;
            let v = c.get("regions_version")?.map_or(0, |v| v.value());
            c.insert("regions_version", v + 1)?;
            Ok(regions.len())
        })
    }

    pub fn regions(&self) -> Result<Vec<Region>, StoreError> {
        self.read_all(REGIONS)
    }

    pub fn region(&self, id: &str) -> Result<Option<Region>, StoreError> {
        self.read(REGIONS, id)
    }

    /// Region maps as of `tx`, rebuilt when the regions change.
    /// The region maps as of `tables`' transaction: from the transaction's memo, else
    /// the kernel's cache (keyed by the regions' version), else read.
    pub(super) fn region_maps_in(&self, tables: &mut ActTables<'_>) -> Result<std::sync::Arc<RegionMaps>, StoreError> {
        if let Some(m) = &tables.region_maps {
            return Ok(m.clone());
        }
        let maps = self.region_maps_at(tables.tx, &tables.counters)?;
        tables.region_maps = Some(maps.clone());
        Ok(maps)
    }

    fn region_maps_at(
        &self,
        tx: &WriteTransaction,
        counters: &redb::Table<'_, TextKey, u64>,
    ) -> Result<std::sync::Arc<RegionMaps>, StoreError> {
        let version = counters.get("regions_version")?.map_or(0, |v| v.value());
        if let Some((v, m)) = &self.caches().regions {
            if *v == version {
                return Ok(m.clone());
            }
        }
        let mut groups = std::collections::HashMap::new();
        let mut names: std::collections::HashMap<String, String> =
            crate::regions::CITY_GROUPS.iter().map(|(id, n)| (id.to_string(), n.to_string())).collect();
        for row in REGIONS.open(tx)?.iter()? {
            let (_, r) = row?;
            if let Some(g) = &r.group {
                groups.insert(r.id.clone(), g.clone());
            }
            names.insert(r.id, r.name);
        }
        let maps = std::sync::Arc::new(RegionMaps { groups, names });
        self.caches().regions = Some((version, maps.clone()));
        Ok(maps)
    }

    pub(super) fn city_groups(&self) -> Result<std::collections::HashMap<String, String>, StoreError> {
        Ok(self
            .regions()?
            .into_iter()
            .filter(|r| r.kind == RegionKind::City)
            .filter_map(|r| r.group.map(|g| (r.id, g)))
            .collect())
    }

    /// Add or replace an organisation; its credit code, channel and regions are checked.
    pub fn upsert_org(&self, org: &Organisation) -> Result<(), AdminError> {
        self.upsert_orgs(std::slice::from_ref(org)).map(|_| ())
    }

    /// Add or replace organisations, all in one transaction or none (each checked
    /// first). Returns how many were written.
    ///
    /// An organisation whose city or district changes takes its applications' list
    /// entries with it (`move_applications`). Its city, district, channel and tags
    /// ([`same_path`]) do not change while one of its applications is under review
    /// (at a review, expert or public-notice stage of a round not closed): the
    /// reviews, the quota units they hold and a withdrawal all belong to the region
    /// that recommended it, so the change waits until the application is decided,
    /// returned or withdrawn.
    ///
    /// # Errors
    /// [`AdminError`] naming the first invalid organisation (nothing is written);
    /// [`AdminError::RegionChangeUnderReview`] naming the organisation and its
    /// application under review.
    pub fn upsert_orgs(&self, orgs: &[Organisation]) -> Result<usize, AdminError> {
        // Codes in their one form (`credit_code::normalise`), as every reader compares them.
        let orgs: Vec<Organisation> = orgs
            .iter()
            .map(|o| Organisation {
                credit_code: shenbao_contract::credit_code::normalise(&o.credit_code),
                // Compact, as a value writes it: the text a check shows the plugin.
                profile: Profile::from_value(&o.profile.to_value()),
                ..o.clone()
            })
            .collect();
        let mut seen = std::collections::HashSet::new();
        for org in &orgs {
            self.check_org(org)?;
            if !seen.insert(org.credit_code.as_str()) {
                return Err(AdminError::Invalid(format!(
                    "统一社会信用代码 {} 在同一批中出现两次 / credit code {} appears twice in one import",
                    org.credit_code, org.credit_code
                )));
            }
        }
        self.write(|tx| {
            let mut t = ORGS.open(tx)?;
            for org in &orgs {
                let old = t.get(org.credit_code.as_str())?;
                if let Some(old) = old.as_ref().filter(|o| !same_path(o, org)) {
                    let versions = tx.open_table(ROUND_VERSIONS)?;
                    let mut round_of = |id: &str| self.round_in(tx, &versions, id);
                    let index = tx.open_table(BY_APPLICANT)?;
                    if let Some((application, stage)) =
                        first_under_review(&index, &APPS.open(tx)?, &mut round_of, &old.credit_code)?
                    {
                        return Err(under_review(old, application, &stage));
                    }
                }
                t.insert(org.credit_code.as_str(), org)?;
                // The indexes key an application by its applicant's city and district
                // (the access policy's reach): they follow the organisation.
                if let Some(old) = old.filter(|o| (&o.city, &o.district) != (&org.city, &org.district)) {
                    super::move_applications(tx, &org.credit_code, &old, org)?;
                }
            }
            Ok(orgs.len())
        })
    }

    /// The refusal [`Kernel::upsert_orgs`] would give `org` (as stored now) for a
    /// change of what decides its applications' path, if one of them is under
    /// review — read in a read transaction of its own, for imports that name every
    /// such row before they write (the write checks again).
    ///
    /// # Errors
    /// Storage errors.
    pub(crate) fn path_change_refusal(&self, org: &Organisation) -> Result<Option<AdminError>, StoreError> {
        let tx = self.begin_read()?;
        let mut round_of = |id: &str| self.round_read(&tx, id);
        let index = tx.open_table(BY_APPLICANT)?;
        let found = first_under_review(&index, &APPS.open(&tx)?, &mut round_of, &org.credit_code)?;
        Ok(found.map(|(application, stage)| under_review(org, application, &stage)))
    }

    pub(crate) fn check_org(&self, org: &Organisation) -> Result<(), AdminError> {
        shenbao_contract::credit_code::validate(&org.credit_code)
            .map_err(|error| AdminError::CreditCode { code: org.credit_code.clone(), error })?;
        // The platform's channels, or one a round declares (`RoundSpec::channels`).
        if !crate::regions::valid_channel_id(&org.channel) {
            return Err(AdminError::UnknownChannel(org.channel.clone()));
        }
        if org.name.trim().is_empty() {
            return Err(AdminError::Invalid("organisation name is empty".into()));
        }
        if let Some(c) = &org.city {
            match self.region(c)? {
                Some(r) if r.kind == RegionKind::City => {}
                _ => return Err(AdminError::UnknownRegion { what: "city", id: c.clone() }),
            }
        }
        if let Some(d) = &org.district {
            match self.region(d)? {
                Some(r) if r.kind == RegionKind::District && r.parent == org.city => {}
                Some(r) if r.kind == RegionKind::District => {
                    return Err(AdminError::DistrictOutsideCity {
                        district: d.clone(),
                        parent: r.parent.unwrap_or_default(),
                        city: org.city.clone().unwrap_or_default(),
                    });
                }
                _ => {
                    return Err(AdminError::UnknownRegion {
                        what: "district (of the organisation's city)",
                        id: d.clone(),
                    });
                }
            }
        }
        Ok(())
    }

    pub fn org(&self, credit_code: &str) -> Result<Option<Organisation>, StoreError> {
        // Codes are read one way everywhere (as the imports store them).
        self.read(ORGS, &shenbao_contract::credit_code::normalise(credit_code))
    }

    pub fn orgs(&self) -> Result<Vec<Organisation>, StoreError> {
        self.read_all(ORGS)
    }

    /// Add or replace a user; every grant's scope must exist.
    pub fn upsert_user(&self, user: &User) -> Result<(), AdminError> {
        self.upsert_users(std::slice::from_ref(user)).map(|_| ())
    }

    /// Add or replace users, all in one transaction or none. Returns how many were
    /// written.
    ///
    /// # Errors
    /// [`AdminError`] naming the first invalid user (nothing is written).
    pub fn upsert_users(&self, users: &[User]) -> Result<usize, AdminError> {
        let users: Vec<User> = users
            .iter()
            .map(|u| {
                let mut u = u.clone();
                for g in &mut u.grants {
                    if let Scope::Organisation(code) = &mut g.scope {
                        *code = shenbao_contract::credit_code::normalise(code);
                    }
                }
                u
            })
            .collect();
        for u in &users {
            self.check_user(u)?;
        }
        // In the writing transaction: an import may not take away the last
        // administrator's grant (a database that had one keeps one).
        self.write(|tx| -> Result<usize, AdminError> {
            let mut t = USERS.open(tx)?;
            let mut before: Vec<User> = Vec::new();
            for row in t.iter()? {
                before.push(row?.1);
            }
            let had = before.iter().any(crate::engine::access::is_admin);
            let keeps =
                before.iter().any(|u| crate::engine::access::is_admin(u) && !users.iter().any(|n| n.id == u.id))
                    || users.iter().any(crate::engine::access::is_admin);
            if had && !keeps {
                let lost = before.iter().find(|u| crate::engine::access::is_admin(u)).map(|u| u.id.clone());
                return Err(AdminError::LastAdministrator { user: lost.unwrap_or_default() });
            }
            for u in &users {
                t.insert(u.id.as_str(), u)?;
            }
            Ok(users.len())
        })
    }

    /// Every user.
    pub fn users(&self) -> Result<Vec<User>, StoreError> {
        self.read_all(USERS)
    }

    pub(crate) fn check_user(&self, user: &User) -> Result<(), AdminError> {
        if user.id.trim().is_empty() {
            return Err(AdminError::Invalid("user id is empty".into()));
        }
        for g in &user.grants {
            match &g.scope {
                Scope::City(c) if self.region(c)?.is_none_or(|r| r.kind != RegionKind::City) => {
                    return Err(AdminError::UnknownRegion { what: "city", id: c.clone() });
                }
                Scope::District(d) if self.region(d)?.is_none_or(|r| r.kind != RegionKind::District) => {
                    return Err(AdminError::UnknownRegion { what: "district", id: d.clone() });
                }
                Scope::Organisation(o) if self.org(o)?.is_none() => {
                    return Err(AdminError::Invalid(format!("organisation {o:?} is not registered")));
                }
                _ => {}
            }
        }
        Ok(())
    }

    pub fn user(&self, id: &str) -> Result<Option<User>, StoreError> {
        self.read(USERS, id)
    }

    /// Set the working-day calendar of a year (holidays and make-up days).
    ///
    /// # Errors
    /// [`AdminError::Invalid`] naming every date that cannot be meant
    /// ([`Calendar::problems`](crate::calendar::Calendar::problems)); nothing is written.
    pub fn set_calendar(&self, year: i32, calendar: &crate::calendar::Calendar) -> Result<(), AdminError> {
        let problems = calendar.problems(year);
        if !problems.is_empty() {
            return Err(AdminError::Invalid(problems.join("；")));
        }
        self.write(|tx| {
            CALENDARS.open(tx)?.insert(year, calendar)?;
            Ok::<_, StoreError>(())
        })?;
        Ok(())
    }

    /// The calendar of a year (weekends only when none is set).
    pub fn calendar(&self, year: i32) -> Result<crate::calendar::Calendar, StoreError> {
        let tx = self.begin_read()?;
        let cal = CALENDARS.open(&tx)?.get(year)?;
        Ok(cal
            .map(|mut c| {
                c.years.insert(year);
                c
            })
            .unwrap_or_default())
    }
}

/// Whether `a` and `b` route their applications alike: the same city, district,
/// channel and set of tags (routes and quotas read them; `dishonest` and the profile are
/// facts reviewers must see at once, whatever the stage).
pub(crate) fn same_path(a: &Organisation, b: &Organisation) -> bool {
    fn tags(o: &Organisation) -> std::collections::BTreeSet<&str> {
        o.tags.iter().map(String::as_str).collect()
    }
    (&a.city, &a.district, &a.channel) == (&b.city, &b.district, &b.channel) && tags(a) == tags(b)
}

/// The first application of the organisation `code` (in its index's order) under
/// review — at a review, expert or notice stage of a round that is not closed (a
/// closed round's applications wait for no one) — with that stage.
fn first_under_review<I, A>(
    index: &I,
    apps: &crate::tables::RecordTable<A, TextKey, Application>,
    round_of: &mut dyn FnMut(&str) -> Result<Option<std::sync::Arc<Round>>, StoreError>,
    code: &str,
) -> Result<Option<(String, shenbao_contract::Stage)>, StoreError>
where
    I: redb::ReadableTable<(TextKey, TextKey, TextKey), ()>,
    A: redb::ReadableTable<TextKey, &'static [u8]>,
{
    super::find_in_applications_of(index, apps, code, &mut |round, id, state| {
        let Some(round) = round_of(round)? else { return Ok(None) };
        if round.status == RoundStatus::Closed {
            return Ok(None);
        }
        let stage = round.graph.stages.iter().find(|s| s.id == state.stage);
        Ok(stage.filter(|s| super::under_review(s.kind)).map(|s| (id.to_string(), s.clone())))
    })
}

fn under_review(org: &Organisation, application: String, stage: &shenbao_contract::Stage) -> AdminError {
    AdminError::RegionChangeUnderReview {
        org: org.credit_code.clone(),
        name: org.name.clone(),
        application,
        stage: stage.title.en.clone(),
        stage_zh: stage.title.zh.clone(),
    }
}
