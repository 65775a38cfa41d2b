//! Field-by-field conversion between these types and generated WIT bindings.
//!
//! The kernel's wasmtime adapter and the guest SDK each have their own generated
//! copy of the WIT records. [`Conv`] plus the [`conv_record!`](crate::conv_record)
//! and [`conv_enum!`](crate::conv_enum) macros let each side state the mapping as a
//! list of field names, checked by the compiler in both directions.

/// Convert `self` into `T`, field by field.
pub trait Conv<T> {
    fn conv(self) -> T;
}

macro_rules! identity {
    ($($t:ty),*) => { $(impl Conv<$t> for $t { #[inline] fn conv(self) -> $t { self } })* };
}
identity!(String, bool, u8, u16, u32, u64, i32, i64);

impl<A: Conv<B>, B> Conv<Vec<B>> for Vec<A> {
    #[inline]
    fn conv(self) -> Vec<B> {
        self.into_iter().map(Conv::conv).collect()
    }
}

impl<A: Conv<B>, B> Conv<Option<B>> for Option<A> {
    #[inline]
    fn conv(self) -> Option<B> {
        self.map(Conv::conv)
    }
}

/// `conv_record!(both A, B { f1, f2 })`: `Conv` both ways between two records with the same fields.
/// `conv_record!(A => B { … })`: one way only.
#[macro_export]
macro_rules! conv_record {
    ($a:path => $b:path { $($f:ident),* $(,)? }) => {
        impl $crate::convert::Conv<$b> for $a {
            #[inline]
            fn conv(self) -> $b {
                #[allow(unused_imports)]
                use $crate::convert::Conv as _;
                $b { $($f: self.$f.conv()),* }
            }
        }
    };
    (both $a:path, $b:path { $($f:ident),* $(,)? }) => {
        $crate::conv_record!($a => $b { $($f),* });
        $crate::conv_record!($b => $a { $($f),* });
    };
}

/// `conv_enum!(both A, B { V1, V2 })`: `Conv` both ways between two field-less enums.
#[macro_export]
macro_rules! conv_enum {
    ($a:path => $b:path { $($v:ident),* $(,)? }) => {
        impl $crate::convert::Conv<$b> for $a {
            #[inline]
            fn conv(self) -> $b {
                use $a as A;
                use $b as B;
                match self { $(A::$v => B::$v),* }
            }
        }
    };
    (both $a:path, $b:path { $($v:ident),* $(,)? }) => {
        $crate::conv_enum!($a => $b { $($v),* });
        $crate::conv_enum!($b => $a { $($v),* });
    };
}

/// The mapping of the whole 0.1 contract, for a side whose generated module is `$g`
/// (the module that holds `Text`, `Finding`, … as generated from `shenbao:program/types`).
///
/// Both the kernel's host adapter and the guest SDK invoke this once, so the field
/// lists exist in one place.
#[macro_export]
macro_rules! conv_contract_0_1 {
    ($g:path) => {
        const _: () = {
            use $crate as c;
            use $crate::convert::Conv;
            use $g as g;

    $crate::conv_record!(both g::Text, c::Text { zh, en });
    $crate::conv_record!(both g::MonthDay, c::MonthDay { month, day });
    $crate::conv_enum!(both g::Severity, c::Severity { Blocking, Warning, Info });
    $crate::conv_record!(both g::Finding, c::Finding { rule_id, severity, path, message });
    $crate::conv_record!(both g::Signal, c::Signal { id, weight, message });
    $crate::conv_record!(both g::Form, c::Form { id, title, schema });
    $crate::conv_record!(both g::Edition, c::Edition { id, year, title });
            $crate::conv_record!(both g::AttachmentType, c::AttachmentType {
                id, title, min_count, max_count, media_types, max_bytes, must_be_valid,
                max_age_months, min_seconds, max_seconds
            });
            $crate::conv_record!(both g::Direction, c::Direction {
                id, title, category, form, handled_by, attachments, editions
            });
    $crate::conv_record!(both g::Category, c::Category { id, title, handled_by });
    $crate::conv_record!(both g::Rule, c::Rule { id, severity, clause, title });
    $crate::conv_record!(both g::SignalType, c::SignalType { id, clause, title });
    $crate::conv_record!(both g::ExpertItem, c::ExpertItem { id, clause, title, directions });
            $crate::conv_enum!(both g::QuotaGroup, c::QuotaGroup {
                Round, City, CityGroup, District, Channel, Applicant, ApplicantCategory
            });
    $crate::conv_record!(both g::QuotaLimit, c::QuotaLimit { scope, limit });
            $crate::conv_record!(both g::Quota, c::Quota {
                id, title, action, stage, group_by, default_limit, limits, channels, message
            });
    $crate::conv_enum!(both g::StageKind, c::StageKind { Draft, Review, Expert, Notice, Library, Terminal });
            $crate::conv_enum!(both g::Outcome, c::Outcome {
                Pending, Passed, NotPassed, Withdrawn, Removed, Exited, Void
            });
            $crate::conv_enum!(both g::ScopeLevel, c::ScopeLevel {
                OwnOrganisation, District, City, Province, Assigned, Public
            });
    $crate::conv_enum!(both g::OpinionRule, c::OpinionRule { None, Optional, Required });
            $crate::conv_enum!(both g::ActionKind, c::ActionKind {
                SaveDraft, Submit, Recommend, NotRecommend, Return, Withdraw, Rank, AssignExperts,
                Score, PublishNotice, Object, ResolveObjection, Decide, AnnualReport, Warn,
                Rectify, Remove, Ban, Exit
            });
            impl Conv<c::Target> for g::Target {
                fn conv(self) -> c::Target {
                    match self {
                        g::Target::Next => c::Target::Next,
                        g::Target::Previous => c::Target::Previous,
                        g::Target::Stage(s) => c::Target::Stage(s),
                        g::Target::Stay => c::Target::Stay,
                    }
                }
            }
            impl Conv<g::Target> for c::Target {
                fn conv(self) -> g::Target {
                    match self {
                        c::Target::Next => g::Target::Next,
                        c::Target::Previous => g::Target::Previous,
                        c::Target::Stage(s) => g::Target::Stage(s),
                        c::Target::Stay => g::Target::Stay,
                    }
                }
            }
            impl Conv<c::RouteCondition> for g::RouteCondition {
                fn conv(self) -> c::RouteCondition {
                    match self {
                        g::RouteCondition::Channel(v) => c::RouteCondition::Channel(v),
                        g::RouteCondition::City(v) => c::RouteCondition::City(v),
                        g::RouteCondition::Tag(v) => c::RouteCondition::Tag(v),
                    }
                }
            }
            impl Conv<g::RouteCondition> for c::RouteCondition {
                fn conv(self) -> g::RouteCondition {
                    match self {
                        c::RouteCondition::Channel(v) => g::RouteCondition::Channel(v),
                        c::RouteCondition::City(v) => g::RouteCondition::City(v),
                        c::RouteCondition::Tag(v) => g::RouteCondition::Tag(v),
                    }
                }
            }
            $crate::conv_record!(both g::Stage, c::Stage {
                id, title, kind, optional, role, scope, sla_working_days, window, outcome
            });
            $crate::conv_record!(both g::Action, c::Action {
                id, title, kind, from_stages, to, roles, scope, opinion, batch, runs_check,
                deadline_months, ban_months, annual_due
            });
    $crate::conv_record!(both g::Route, c::Route { id, title, when, skip });
    $crate::conv_record!(both g::Graph, c::Graph { initial, stages, actions, routes });
    $crate::conv_record!(both g::SummaryColumn, c::SummaryColumn { title, source });
    $crate::conv_record!(both g::SummarySection, c::SummarySection { id, title, field, equals });
    $crate::conv_record!(both g::SummaryTable, c::SummaryTable { title, sections, columns });
            $crate::conv_record!(both g::Manifest, c::Manifest {
                program, name, version, editions, default_edition, funded, forms, categories,
                directions, directions_from_round, rules, signals, expert_items, quotas, graph, summary
            });
            impl Conv<c::Date> for g::Date {
                fn conv(self) -> c::Date {
                    c::Date { year: self.year, month: self.month, day: self.day }
                }
            }
            impl Conv<g::Date> for c::Date {
                fn conv(self) -> g::Date {
                    g::Date { year: self.year, month: self.month, day: self.day }
                }
            }
            $crate::conv_record!(both g::Qualification, c::Qualification {
                id, name, granted_by, granted_on, valid_until
            });
            $crate::conv_record!(both g::Applicant, c::Applicant {
                credit_code, name, channel, city, district, dishonest, tags, qualifications, profile
            });
            $crate::conv_record!(both g::HistoryEntry, c::HistoryEntry {
                application, program, round, year, direction, project, stage, outcome, decided_on
            });
            $crate::conv_record!(both g::Attachment, c::Attachment {
                id, kind, name, media_type, size, sha256, issued_on, valid_until, seconds
            });
    $crate::conv_record!(both g::RoundInfo, c::RoundInfo { id, program, year, edition, batch, config });
            $crate::conv_record!(both g::CheckRequest, c::CheckRequest {
                form, direction, data, applicant, history, attachments, round, as_of
            });
    $crate::conv_record!(both g::CheckResult, c::CheckResult { findings, signals });
    $crate::conv_record!(both g::RoundCheck, c::RoundCheck { findings, directions });
    $crate::conv_record!(both g::PluginError, c::PluginError { code, message });
        };
    };
}

impl<A: Conv<B>, B, E: Conv<F>, F> Conv<Result<B, F>> for Result<A, E> {
    #[inline]
    fn conv(self) -> Result<B, F> {
        self.map(Conv::conv).map_err(Conv::conv)
    }
}
