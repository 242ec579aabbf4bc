//! The service-quality index of Decision 766/QĐ-TTg, as pure functions of facts read from the
//! store: which dossiers count in a period, and each indicator's numerator, denominator and
//! points. The choices where the published scoring leaves a detail open are in the README
//! ("The service-quality index").

use std::collections::HashSet;

use motcua_shared::{
    Lang,
    calendar::Calendar,
    dossier::DossierStatus,
    procedure::{OnlineLevel, ProcedureDetail},
    stats_api::{Group, Indicator, ProcessingTime},
};

/// The national catalogue's code of the electronic certified copy (indicator 4.3).
pub const CERTIFIED_COPY: &str = "2.000815";

/// What the index reads of a procedure.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcedureFacts {
    pub code: String,
    pub name: String,
    pub agency: String,
    pub time_limit: i64,
    pub full_online: bool,
    /// Published with its documents and deciding agency.
    pub complete: bool,
    pub has_form: bool,
    /// Its results are named (what the applicant receives).
    pub results_named: bool,
    pub has_fee: bool,
    /// Its fee can be paid online (through the payment gateway).
    pub fee_online: bool,
    /// Some required document can be replaced by data a register holds.
    pub replaceable: bool,
    /// Its form reads the population database.
    pub reads_population: bool,
}

impl ProcedureFacts {
    pub fn of(detail: &ProcedureDetail, lang: Lang) -> ProcedureFacts {
        let p = &detail.procedure;
        let sources: Vec<&str> = detail
            .form
            .iter()
            .flat_map(|f| f.fields.iter())
            .filter_map(|f| f.source.as_deref())
            .collect();
        ProcedureFacts {
            code: p.code.clone(),
            name: p.name.get(lang).to_owned(),
            agency: p.agency.code.clone(),
            time_limit: i64::from(p.time_limit_working_days),
            full_online: p.online_level == OnlineLevel::Full,
            complete: !p.required_documents.is_empty() && !p.agency.code.is_empty(),
            has_form: detail.form.is_some(),
            results_named: !detail.results.is_empty(),
            has_fee: p.fee_vnd.0 > 0 || p.online_fee_vnd.0 > 0,
            // Every fee of this platform's catalogue is taken through the gateway.
            fee_online: p.online_fee_vnd.0 > 0,
            replaceable: p
                .required_documents
                .iter()
                .any(|d| d.provided_by.as_deref().is_some_and(|s| s != "form")),
            reads_population: sources.iter().any(|s| s.starts_with("population.")),
        }
    }
}

/// The required documents of `detail` that the verified fields replaced by a register's data.
pub fn replaced_documents(detail: &ProcedureDetail, verified_fields: &[String]) -> Vec<String> {
    let Some(form) = &detail.form else {
        return Vec::new();
    };
    detail
        .procedure
        .required_documents
        .iter()
        .filter(|doc| {
            doc.provided_by
                .as_deref()
                .filter(|s| *s != "form")
                .is_some_and(|source| {
                    form.fields.iter().any(|f| {
                        f.source.as_deref() == Some(source) && verified_fields.contains(&f.name)
                    })
                })
        })
        .map(|doc| doc.code.clone())
        .collect()
}

/// What the index reads of a filing, worked out when it is made and kept on the dossier.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FilingFacts {
    /// Required documents replaced by a register's data, of those that could be.
    pub replaced_docs: i64,
    pub replaceable_docs: i64,
    pub used_population: bool,
    /// The form's fields, and those the state filled (verified).
    pub form_fields: i64,
    pub prefilled_fields: i64,
}

impl FilingFacts {
    pub fn of(detail: &ProcedureDetail, verified_fields: &[String]) -> FilingFacts {
        let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        FilingFacts {
            replaced_docs: count(replaced_documents(detail, verified_fields).len()),
            replaceable_docs: count(
                detail
                    .procedure
                    .required_documents
                    .iter()
                    .filter(|d| d.provided_by.as_deref().is_some_and(|s| s != "form"))
                    .count(),
            ),
            used_population: used_population(detail, verified_fields),
            form_fields: count(detail.form.as_ref().map_or(0, |f| f.fields.len())),
            prefilled_fields: count(verified_fields.len()),
        }
    }
}

/// Whether the verified fields include one read from the population database.
pub fn used_population(detail: &ProcedureDetail, verified_fields: &[String]) -> bool {
    detail.form.as_ref().is_some_and(|form| {
        form.fields.iter().any(|f| {
            f.source
                .as_deref()
                .is_some_and(|s| s.starts_with("population."))
                && verified_fields.contains(&f.name)
        })
    })
}

/// What the index reads of a dossier.
#[derive(Debug, Clone, PartialEq)]
pub struct DossierFacts {
    pub procedure: String,
    pub unit: String,
    pub status: DossierStatus,
    pub submitted_at: i64,
    pub received_at: Option<i64>,
    pub finished_at: Option<i64>,
    /// The legal deadline (none while a supplement pauses the clock, or before reception).
    pub deadline_at: Option<i64>,
    /// When it was found late (kept through pauses and reschedules).
    pub overdue_at: Option<i64>,
    pub online: bool,
    pub fee_due: bool,
    pub fee_paid_online: bool,
    /// A signed credential was issued from it.
    pub credential: bool,
    /// Its results were put into the applicant's data warehouse.
    pub results_stored: bool,
    /// What its filing's verified fields replaced and read.
    pub filing: FilingFacts,
    /// Its changes the national portal is told of, the latest one's time, the portal's
    /// acknowledgements and how many of them came later than [`super::decide::REAL_TIME_MS`].
    pub sync_changes: i64,
    pub last_sync_change_at: Option<i64>,
    pub portal_acks: i64,
    pub portal_slow_acks: i64,
    /// The applicant's rating: `Some(false)` when not satisfied.
    pub satisfied: Option<bool>,
    /// Feedback (a complaint) was sent about it.
    pub complained: bool,
}

impl DossierFacts {
    /// Finished by `at` (Unix ms, excluded).
    fn finished_by(&self, at: i64) -> Option<i64> {
        self.finished_at.filter(|f| *f < at)
    }

    /// Whether it was late at `end`: finished after its deadline, or still open past it, or
    /// found late before then. A dossier whose clock is paused is within time unless it had
    /// already been found late.
    pub fn late_at(&self, end: i64) -> bool {
        if self.overdue_at.is_some_and(|o| o < end) {
            return true;
        }
        match (self.finished_by(end), self.deadline_at) {
            (Some(done), Some(deadline)) => done > deadline,
            (None, Some(deadline)) => deadline < end,
            (_, None) => false,
        }
    }

    /// Synced in real time: every change acknowledged within [`super::decide::REAL_TIME_MS`] (the latest may
    /// still be within its time, `recent_after` on).
    fn synced(&self, recent_after: i64) -> bool {
        self.portal_acks > 0
            && self.portal_slow_acks == 0
            && (self.portal_acks >= self.sync_changes
                || (self.portal_acks + 1 >= self.sync_changes
                    && self.last_sync_change_at.is_some_and(|t| t >= recent_after)))
    }

    /// How the index counts it in `[from, to)`; `None` when it was not active then (filed
    /// after, or finished before). `recent_after`: changes since then may still be unacknowledged.
    pub fn classify(&self, from: i64, to: i64, recent_after: i64) -> Option<DossierClass> {
        let active = self.submitted_at < to && self.finished_at.is_none_or(|f| f >= from);
        active.then(|| DossierClass {
            procedure: self.procedure.clone(),
            unit: self.unit.clone(),
            status: self.status,
            filed: self.submitted_at >= from,
            finished: self.finished_by(to).is_some(),
            late: self.late_at(to),
            online: self.online,
            fee_due: self.fee_due,
            fee_paid_online: self.fee_paid_online,
            credential: self.credential,
            results_stored: self.results_stored,
            replaced: self.filing.replaced_docs > 0,
            fully_replaced: self.filing.replaceable_docs > 0
                && self.filing.replaced_docs == self.filing.replaceable_docs,
            used_population: self.filing.used_population,
            synced: self.synced(recent_after),
            satisfied: self.satisfied,
            complained: self.complained,
            count: 1,
            form_fields: self.filing.form_fields,
            prefilled_fields: self.filing.prefilled_fields,
        })
    }
}

/// Dossiers active in a period that the index counts alike: how many, and what holds of them
/// there. The store computes these with one grouped scan; [`DossierFacts::classify`] is the
/// same rule for one dossier (the tests compare the two).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DossierClass {
    pub procedure: String,
    pub unit: String,
    /// Its status now.
    pub status: DossierStatus,
    /// Filed within the period.
    pub filed: bool,
    /// Reached a final status before the period's end.
    pub finished: bool,
    pub late: bool,
    pub online: bool,
    pub fee_due: bool,
    pub fee_paid_online: bool,
    pub credential: bool,
    pub results_stored: bool,
    pub replaced: bool,
    pub fully_replaced: bool,
    pub used_population: bool,
    pub synced: bool,
    pub satisfied: Option<bool>,
    pub complained: bool,
    pub count: i64,
    /// Sums over the class.
    pub form_fields: i64,
    pub prefilled_fields: i64,
}

impl DossierClass {
    fn withdrawn(&self) -> bool {
        self.status == DossierStatus::Withdrawn && self.finished
    }
}

/// Finished dossiers' processing: procedure, working days taken (see
/// [`super::rollup::working_days`]) and how many dossiers took that long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Processed {
    pub procedure: String,
    pub working_days: u32,
    pub count: i64,
}

/// What the index reads of one piece of feedback.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedbackFacts {
    pub received_at: i64,
    pub due_at: i64,
    pub answered_at: Option<i64>,
    /// The sender's word on the answer: `Some(false)` not settled.
    pub settled: Option<bool>,
}

/// Everything the index of one period is computed from.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// Procedures in scope.
    pub procedures: Vec<ProcedureFacts>,
    /// The dossiers active in the period, by class.
    pub dossiers: Vec<DossierClass>,
    /// Dossiers decided in the period (not withdrawn): how long each took.
    pub processed: Vec<Processed>,
    pub feedback: Vec<FeedbackFacts>,
    /// The communes in scope.
    pub communes: Vec<String>,
}

impl Facts {
    /// The facts of `[from, to)` from single dossiers (what the store does in SQL).
    pub fn of_dossiers(
        calendar: &Calendar,
        procedures: Vec<ProcedureFacts>,
        dossiers: &[DossierFacts],
        feedback: Vec<FeedbackFacts>,
        communes: Vec<String>,
        (from, to, recent_after): (i64, i64, i64),
    ) -> Facts {
        Facts {
            procedures,
            dossiers: dossiers
                .iter()
                .filter_map(|d| d.classify(from, to, recent_after))
                .collect(),
            processed: dossiers
                .iter()
                .filter(|d| d.status != DossierStatus::Withdrawn)
                .filter_map(|d| {
                    let finish = d.finished_at.filter(|f| *f >= from && *f < to)?;
                    Some(Processed {
                        procedure: d.procedure.clone(),
                        working_days: super::rollup::working_days(
                            calendar,
                            d.received_at.unwrap_or(d.submitted_at),
                            finish,
                        ),
                        count: 1,
                    })
                })
                .collect(),
            feedback,
            communes,
        }
    }
}

/// One indicator's definition: code, names, points, and the ratio earning full points.
struct Def {
    code: &'static str,
    vi: &'static str,
    en: &'static str,
    max: f64,
    full_at: f64,
    /// Points when nothing is counted (the portal gives feedback indicators full points then).
    empty_points: f64,
}

const fn def(code: &'static str, vi: &'static str, en: &'static str, max: f64) -> Def {
    Def {
        code,
        vi,
        en,
        max,
        full_at: 1.0,
        empty_points: 0.0,
    }
}

fn indicator(d: &Def, numerator: i64, denominator: i64, lang: Lang) -> Indicator {
    #[allow(clippy::cast_precision_loss)]
    let ratio = (denominator > 0).then(|| numerator as f64 / denominator as f64);
    let points = ratio.map_or(d.empty_points, |r| (d.max * r / d.full_at).min(d.max));
    Indicator {
        code: d.code.to_owned(),
        name: match lang {
            Lang::Vi => d.vi,
            Lang::En => d.en,
        }
        .to_owned(),
        numerator,
        denominator,
        ratio,
        points: round2(points),
        max_points: d.max,
        full_at: (d.full_at < 1.0).then_some(d.full_at),
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn count<T>(items: &[T], f: impl Fn(&T) -> bool) -> i64 {
    i64::try_from(items.iter().filter(|x| f(x)).count()).unwrap_or(i64::MAX)
}

/// How many dossiers of `classes` hold `f`.
fn weigh(classes: &[&DossierClass], f: impl Fn(&DossierClass) -> bool) -> i64 {
    classes.iter().filter(|c| f(c)).map(|c| c.count).sum()
}

fn group(
    code: &str,
    vi: &str,
    en: &str,
    max: f64,
    indicators: Vec<Indicator>,
    lang: Lang,
) -> Group {
    Group {
        code: code.to_owned(),
        name: match lang {
            Lang::Vi => vi,
            Lang::En => en,
        }
        .to_owned(),
        points: round2(indicators.iter().map(|i| i.points).sum()),
        max_points: max,
        indicators,
    }
}

/// The index for the period `[from, to)` (Unix ms).
#[allow(clippy::too_many_lines)]
pub fn score(facts: &Facts, from: i64, to: i64, lang: Lang) -> Vec<Group> {
    let procedures = &facts.procedures;
    let proc_of = |code: &str| procedures.iter().find(|p| p.code == code);
    // Received, in progress or returned in the period.
    let active: Vec<&DossierClass> = facts.dossiers.iter().collect();
    // Filed in the period.
    let filed: Vec<&DossierClass> = active.iter().copied().filter(|d| d.filed).collect();
    // What holds somewhere, looked up per commune and procedure (there may be thousands).
    let units_where = |holds: &dyn Fn(&DossierClass) -> bool| -> HashSet<&str> {
        filed
            .iter()
            .filter(|d| holds(d))
            .map(|d| d.unit.as_str())
            .collect()
    };
    let procedures_where = |holds: &dyn Fn(&DossierClass) -> bool| -> HashSet<&str> {
        active
            .iter()
            .filter(|d| holds(d))
            .map(|d| d.procedure.as_str())
            .collect()
    };
    let copied_in = units_where(&|d| d.procedure == CERTIFIED_COPY);
    let used_population = procedures_where(&|d| d.filed && d.used_population);
    // Handled: active and not withdrawn (a withdrawal is neither on time nor late).
    let handled: Vec<&DossierClass> = active.iter().copied().filter(|d| !d.withdrawn()).collect();
    // Finished in the period with a decision (a result or a refusal).
    let finished: Vec<&DossierClass> = handled.iter().copied().filter(|d| d.finished).collect();
    let issued: Vec<&DossierClass> = finished
        .iter()
        .copied()
        .filter(|d| d.status == DossierStatus::ResultIssued)
        .collect();

    let transparency = vec![
        indicator(
            &def(
                "1.1",
                "Thủ tục hành chính công khai đầy đủ thành phần hồ sơ và cơ quan giải quyết",
                "Procedures published with their documents and deciding agency",
                6.0,
            ),
            count(procedures, |p| p.complete),
            count(procedures, |_| true),
            lang,
        ),
        indicator(
            &def(
                "1.2",
                "Thủ tục hành chính có biểu mẫu điện tử",
                "Procedures with an electronic form",
                4.0,
            ),
            count(procedures, |p| p.has_form),
            count(procedures, |_| true),
            lang,
        ),
        indicator(
            &def(
                "1.3",
                "Thủ tục hành chính công khai kết quả giải quyết",
                "Procedures whose results are published",
                2.0,
            ),
            count(procedures, |p| p.results_named),
            count(procedures, |_| true),
            lang,
        ),
        indicator(
            &def(
                "1.4",
                "Hồ sơ được đồng bộ trạng thái theo thời gian thực với Cổng Dịch vụ công quốc gia",
                "Dossiers synced to the National Public Service Portal in real time",
                6.0,
            ),
            weigh(&active, |d| d.synced),
            weigh(&active, |_| true),
            lang,
        ),
    ];

    let progress = vec![indicator(
        &def(
            "2.1",
            "Hồ sơ xử lý trước hạn, đúng hạn và đang xử lý trong hạn",
            "Dossiers resolved on time or still within time",
            20.0,
        ),
        weigh(&handled, |d| !d.late),
        weigh(&handled, |_| true),
        lang,
    )];

    let full_online_filed: Vec<&DossierClass> = filed
        .iter()
        .copied()
        .filter(|d| proc_of(&d.procedure).is_some_and(|p| p.full_online))
        .collect();
    let online = vec![
        indicator(
            &def(
                "3.1",
                "Thủ tục hành chính cung cấp dịch vụ công trực tuyến toàn trình",
                "Procedures offered fully online",
                4.0,
            ),
            count(procedures, |p| p.full_online),
            count(procedures, |_| true),
            lang,
        ),
        indicator(
            &def(
                "3.2",
                "Hồ sơ trực tuyến toàn trình trên tổng số hồ sơ của thủ tục đủ điều kiện",
                "Dossiers filed fully online, of procedures offered fully online",
                8.0,
            ),
            weigh(&full_online_filed, |d| d.online),
            weigh(&full_online_filed, |_| true),
            lang,
        ),
    ];

    let of_result_procedures: Vec<&DossierClass> = issued
        .iter()
        .copied()
        .filter(|d| proc_of(&d.procedure).is_some_and(|p| p.results_named))
        .collect();
    let of_replaceable: Vec<&DossierClass> = filed
        .iter()
        .copied()
        .filter(|d| proc_of(&d.procedure).is_some_and(|p| p.replaceable))
        .collect();
    let population_procedures: Vec<&ProcedureFacts> =
        procedures.iter().filter(|p| p.reads_population).collect();
    let digitisation = vec![
        indicator(
            &def(
                "4.1",
                "Hồ sơ có kết quả giải quyết điện tử có giá trị pháp lý",
                "Finished dossiers with a signed electronic result",
                6.0,
            ),
            weigh(&of_result_procedures, |d| d.credential),
            weigh(&of_result_procedures, |_| true),
            lang,
        ),
        indicator(
            &def(
                "4.2",
                "Hồ sơ có kết quả được lưu vào kho dữ liệu của người dân, doanh nghiệp",
                "Finished dossiers whose results are kept in the applicant's data warehouse",
                4.0,
            ),
            weigh(&of_result_procedures, |d| d.results_stored),
            weigh(&of_result_procedures, |_| true),
            lang,
        ),
        indicator(
            &def(
                "4.3",
                "Xã có tiếp nhận chứng thực bản sao điện tử từ bản chính",
                "Communes where electronic certified copies were filed",
                2.0,
            ),
            count(&facts.communes, |c| copied_in.contains(c.as_str())),
            count(&facts.communes, |_| true),
            lang,
        ),
        indicator(
            &Def {
                full_at: 0.8,
                ..def(
                    "4.4",
                    "Hồ sơ có thành phần được thay thế bằng dữ liệu",
                    "Dossiers with documents replaced by data the state holds",
                    2.0,
                )
            },
            weigh(&of_replaceable, |d| d.replaced),
            weigh(&of_replaceable, |_| true),
            lang,
        ),
        indicator(
            &def(
                "4.5",
                "Hồ sơ có thành phần được thay thế hoàn toàn bằng dữ liệu",
                "Dossiers whose replaceable documents were all replaced by data",
                4.0,
            ),
            weigh(&of_replaceable, |d| d.fully_replaced),
            weigh(&of_replaceable, |_| true),
            lang,
        ),
        indicator(
            &def(
                "4.6",
                "Hồ sơ có sử dụng dữ liệu dân cư",
                "Dossiers that used the population database",
                2.0,
            ),
            weigh(&filed, |d| d.used_population),
            weigh(&filed, |_| true),
            lang,
        ),
        indicator(
            &def(
                "4.7",
                "Thủ tục hành chính đã khai thác dữ liệu dân cư",
                "Procedures whose dossiers used the population database",
                2.0,
            ),
            count(&population_procedures, |p| {
                used_population.contains(p.code.as_str())
            }),
            count(&population_procedures, |_| true),
            lang,
        ),
    ];

    let with_fee: Vec<&DossierClass> = filed.iter().copied().filter(|d| d.fee_due).collect();
    let fee_procedures: Vec<&ProcedureFacts> = procedures.iter().filter(|p| p.has_fee).collect();
    let paid_online: HashSet<&str> = with_fee
        .iter()
        .filter(|d| d.fee_paid_online)
        .map(|d| d.procedure.as_str())
        .collect();
    let payment = vec![
        indicator(
            &def(
                "5.1",
                "Hồ sơ có phí, lệ phí được thanh toán trực tuyến",
                "Dossiers with a fee paid online",
                6.0,
            ),
            weigh(&with_fee, |d| d.fee_paid_online),
            weigh(&with_fee, |_| true),
            lang,
        ),
        indicator(
            &Def {
                full_at: 0.8,
                ..def(
                    "5.2",
                    "Thủ tục có phí, lệ phí phát sinh thanh toán trực tuyến",
                    "Procedures with fees that had an online payment",
                    2.0,
                )
            },
            count(&fee_procedures, |p| paid_online.contains(p.code.as_str())),
            count(&fee_procedures, |_| true),
            lang,
        ),
        indicator(
            &def(
                "5.3",
                "Thủ tục có phí, lệ phí cho phép thanh toán trực tuyến",
                "Procedures with fees that can be paid online",
                2.0,
            ),
            count(&fee_procedures, |p| p.fee_online),
            count(&fee_procedures, |_| true),
            lang,
        ),
    ];

    // Feedback received in the period, or still open during it.
    let feedback: Vec<&FeedbackFacts> = facts
        .feedback
        .iter()
        .filter(|f| f.received_at < to && f.answered_at.is_none_or(|a| a >= from))
        .collect();
    let answered: Vec<&FeedbackFacts> = feedback
        .iter()
        .copied()
        .filter(|f| f.answered_at.is_some_and(|a| a < to))
        .collect();
    let satisfaction = vec![
        indicator(
            &Def {
                full_at: 0.9,
                ..def(
                    "6.1",
                    "Hồ sơ không có đánh giá không hài lòng, phản ánh hoặc trễ hạn",
                    "Dossiers without a \"not satisfied\" rating, a complaint or a late result",
                    6.0,
                )
            },
            weigh(&finished, |d| {
                d.satisfied != Some(false) && !d.complained && !d.late
            }),
            weigh(&finished, |_| true),
            lang,
        ),
        indicator(
            &Def {
                empty_points: 6.0,
                ..def(
                    "6.2",
                    "Phản ánh, kiến nghị được xử lý đúng hạn hoặc đang trong hạn",
                    "Feedback answered on time or still within time",
                    6.0,
                )
            },
            count(&feedback, |f| match f.answered_at.filter(|a| *a < to) {
                Some(a) => a <= f.due_at,
                None => f.due_at >= to,
            }),
            count(&feedback, |_| true),
            lang,
        ),
        indicator(
            &Def {
                empty_points: 6.0,
                ..def(
                    "6.3",
                    "Hài lòng với kết quả xử lý phản ánh, kiến nghị",
                    "Feedback answers that settled the matter, on time",
                    6.0,
                )
            },
            count(&answered, |f| {
                f.settled != Some(false) && f.answered_at.is_some_and(|a| a <= f.due_at)
            }),
            count(&answered, |_| true),
            lang,
        ),
    ];

    vec![
        group(
            "transparency",
            "Công khai, minh bạch",
            "Transparency",
            18.0,
            transparency,
            lang,
        ),
        group(
            "progress",
            "Tiến độ giải quyết",
            "Progress",
            20.0,
            progress,
            lang,
        ),
        group(
            "online",
            "Dịch vụ công trực tuyến",
            "Online service",
            12.0,
            online,
            lang,
        ),
        group(
            "digitisation",
            "Số hóa hồ sơ",
            "Digitisation",
            22.0,
            digitisation,
            lang,
        ),
        group(
            "payment",
            "Thanh toán trực tuyến",
            "Online payment",
            10.0,
            payment,
            lang,
        ),
        group(
            "satisfaction",
            "Mức độ hài lòng",
            "Satisfaction",
            18.0,
            satisfaction,
            lang,
        ),
    ]
}

/// Dossiers received, in progress or returned in the period.
pub fn active_count(facts: &Facts) -> i64 {
    facts.dossiers.iter().map(|c| c.count).sum()
}

/// The `q`-quantile (0–1) of sorted values with their counts (`total` in all), by the
/// nearest rank.
fn quantile(sorted: &[(u32, i64)], total: i64, q: f64) -> Option<f64> {
    if total <= 0 {
        return None;
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
    let rank = ((q * total as f64).ceil() as i64).clamp(1, total);
    let mut seen = 0;
    sorted.iter().find_map(|(value, n)| {
        seen += n;
        (seen >= rank).then(|| f64::from(*value))
    })
}

/// Per procedure: the median and 90th percentile of working days from reception to a
/// decision, for the dossiers decided (not withdrawn) in the period.
pub fn processing_times(facts: &Facts) -> Vec<ProcessingTime> {
    facts
        .procedures
        .iter()
        .filter_map(|p| {
            let mut days: Vec<(u32, i64)> = facts
                .processed
                .iter()
                .filter(|d| d.procedure == p.code)
                .map(|d| (d.working_days, d.count))
                .collect();
            if days.is_empty() {
                return None;
            }
            days.sort_unstable();
            let total: i64 = days.iter().map(|(_, n)| n).sum();
            Some(ProcessingTime {
                procedure_code: p.code.clone(),
                procedure_name: p.name.clone(),
                finished: total,
                median_working_days: quantile(&days, total, 0.5),
                p90_working_days: quantile(&days, total, 0.9),
                time_limit_working_days: p.time_limit,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;
    /// 2026-11-01 00:00 Vietnam time (a Sunday), and the period: November 2026.
    const NOV: i64 = 1_793_466_000_000;
    const DEC: i64 = NOV + 30 * DAY;

    fn procedure(code: &str) -> ProcedureFacts {
        ProcedureFacts {
            code: code.into(),
            name: code.into(),
            agency: "UBND-XA".into(),
            time_limit: 3,
            full_online: true,
            complete: true,
            has_form: true,
            results_named: true,
            has_fee: true,
            fee_online: true,
            replaceable: true,
            reads_population: true,
        }
    }

    /// A dossier of procedure `P` filed on day `filed` of November, received at once, due 3
    /// days later, synced in real time, everything done well; finished on `finished` if given.
    fn dossier(filed: i64, finished: Option<i64>) -> DossierFacts {
        DossierFacts {
            procedure: "P".into(),
            unit: "00001".into(),
            status: if finished.is_some() {
                DossierStatus::ResultIssued
            } else {
                DossierStatus::InProcessing
            },
            submitted_at: NOV + filed * DAY,
            received_at: Some(NOV + filed * DAY),
            finished_at: finished.map(|f| NOV + f * DAY),
            deadline_at: Some(NOV + (filed + 3) * DAY),
            overdue_at: None,
            online: true,
            fee_due: true,
            fee_paid_online: true,
            credential: true,
            results_stored: true,
            filing: FilingFacts {
                replaced_docs: 1,
                replaceable_docs: 1,
                used_population: true,
                form_fields: 10,
                prefilled_fields: 6,
            },
            sync_changes: 3,
            last_sync_change_at: Some(NOV + filed * DAY),
            portal_acks: 3,
            portal_slow_acks: 0,
            satisfied: Some(true),
            complained: false,
        }
    }

    /// The facts of November (a change since its end is still within its time).
    fn facts(dossiers: Vec<DossierFacts>) -> Facts {
        Facts::of_dossiers(
            Calendar::vietnam_shared().expect("the calendar"),
            vec![procedure("P")],
            &dossiers,
            Vec::new(),
            vec!["00001".into(), "00002".into()],
            (NOV, DEC, DEC),
        )
    }

    fn find<'a>(groups: &'a [Group], code: &str) -> &'a Indicator {
        groups
            .iter()
            .flat_map(|g| &g.indicators)
            .find(|i| i.code == code)
            .expect("listed")
    }

    #[test]
    fn six_groups_of_a_hundred_points_and_everything_done_well_scores_all_but_the_unused() {
        let copy = DossierFacts {
            procedure: CERTIFIED_COPY.into(),
            ..dossier(1, Some(2))
        };
        let groups = score(&facts(vec![dossier(1, Some(2)), copy]), NOV, DEC, Lang::Vi);
        let maxima: Vec<f64> = groups.iter().map(|g| g.max_points).collect();
        assert_eq!(maxima, [18.0, 20.0, 12.0, 22.0, 10.0, 18.0]);
        for g in &groups {
            let sum: f64 = g.indicators.iter().map(|i| i.max_points).sum();
            assert!((sum - g.max_points).abs() < 1e-9, "{}", g.code);
        }
        let total: f64 = groups.iter().map(|g| g.points).sum();
        // Only 4.3 is short: one commune of two had certified copies.
        assert!((total - 99.0).abs() < 1e-9, "{total}");
        assert_eq!(find(&groups, "4.3").points, 1.0);
    }

    #[test]
    fn no_dossiers_scores_nothing_for_them_and_full_points_for_absent_feedback() {
        let groups = score(&facts(Vec::new()), NOV, DEC, Lang::En);
        let i = find(&groups, "2.1");
        assert_eq!(
            (i.numerator, i.denominator, i.ratio, i.points),
            (0, 0, None, 0.0)
        );
        assert_eq!(find(&groups, "1.4").points, 0.0);
        assert_eq!(find(&groups, "6.1").points, 0.0);
        assert_eq!(find(&groups, "6.2").points, 6.0);
        assert_eq!(find(&groups, "6.3").points, 6.0);
        assert_eq!(
            find(&groups, "2.1").name,
            "Dossiers resolved on time or still within time"
        );
    }

    #[test]
    fn all_late_scores_no_progress_and_spoils_satisfaction() {
        let late = |filed, finished| DossierFacts {
            finished_at: Some(NOV + finished * DAY),
            ..dossier(filed, Some(finished))
        };
        let open_late = DossierFacts {
            overdue_at: Some(NOV + 6 * DAY),
            ..dossier(1, None)
        };
        let groups = score(
            &facts(vec![late(1, 8), late(2, 9), open_late]),
            NOV,
            DEC,
            Lang::Vi,
        );
        let i = find(&groups, "2.1");
        assert_eq!((i.numerator, i.denominator, i.points), (0, 3, 0.0));
        let s = find(&groups, "6.1");
        assert_eq!((s.numerator, s.denominator, s.points), (0, 2, 0.0));
    }

    #[test]
    fn a_supplement_pause_is_within_time_and_a_late_finish_after_it_is_late() {
        // Paused: no deadline while the applicant supplements; still within time at the end.
        let paused = DossierFacts {
            deadline_at: None,
            status: DossierStatus::SupplementRequested,
            ..dossier(1, None)
        };
        // Paused for 10 days, then resumed with a new deadline, and finished before it.
        let resumed = DossierFacts {
            deadline_at: Some(NOV + 15 * DAY),
            ..dossier(1, Some(14))
        };
        // Open past its deadline, not yet flagged by the sweep: late at the period's end.
        let unflagged = dossier(1, None);
        let groups = score(&facts(vec![paused, resumed, unflagged]), NOV, DEC, Lang::Vi);
        let i = find(&groups, "2.1");
        assert_eq!((i.numerator, i.denominator), (2, 3));
        assert!((i.points - 13.33).abs() < 1e-9, "{}", i.points);
    }

    #[test]
    fn dossiers_spanning_the_edges_count_as_they_stood_in_the_period() {
        // Filed in October, finished in November: counted; on time.
        let from_before = DossierFacts {
            submitted_at: NOV - 2 * DAY,
            received_at: Some(NOV - 2 * DAY),
            deadline_at: Some(NOV + DAY),
            ..dossier(0, Some(0))
        };
        // Finished in October: not counted.
        let done_before = DossierFacts {
            submitted_at: NOV - 9 * DAY,
            finished_at: Some(NOV - 5 * DAY),
            ..dossier(0, Some(0))
        };
        // Filed in November, finished late in December: open at the period's end and past its
        // deadline then, so late; and not yet finished for 6.1.
        let into_next = DossierFacts {
            deadline_at: Some(NOV + 29 * DAY),
            ..dossier(28, Some(35))
        };
        // Filed in December: not counted.
        let after = dossier(31, None);
        let groups = score(
            &facts(vec![from_before, done_before, into_next, after]),
            NOV,
            DEC,
            Lang::Vi,
        );
        let progress = find(&groups, "2.1");
        assert_eq!((progress.numerator, progress.denominator), (1, 2));
        let satisfaction = find(&groups, "6.1");
        assert_eq!((satisfaction.numerator, satisfaction.denominator), (1, 1));
        // 3.2 counts filings of the period only.
        assert_eq!(find(&groups, "3.2").denominator, 1);
    }

    #[test]
    fn thresholds_cap_points_and_unsynced_or_slow_dossiers_miss_real_time() {
        let replaced = |n| DossierFacts {
            filing: FilingFacts {
                replaced_docs: n,
                replaceable_docs: 2,
                ..dossier(1, None).filing
            },
            ..dossier(1, None)
        };
        let slow = DossierFacts {
            portal_slow_acks: 1,
            ..dossier(1, None)
        };
        // Its last change waited more than 15 minutes unacknowledged.
        let waiting = DossierFacts {
            portal_acks: 2,
            ..dossier(1, None)
        };
        // Its last change is a minute old, not yet acknowledged: still in time.
        let recent = DossierFacts {
            portal_acks: 2,
            last_sync_change_at: Some(DEC + 60_000),
            ..dossier(1, None)
        };
        let never = DossierFacts {
            portal_acks: 0,
            ..dossier(1, None)
        };
        let groups = score(
            &facts(vec![
                replaced(1),
                replaced(1),
                replaced(1),
                replaced(0),
                slow,
                waiting,
                never,
                recent,
            ]),
            NOV,
            DEC,
            Lang::Vi,
        );
        // 4.4: 7 of 8 replaced ≥ 80 %: full points; 4.5: only the four with one replaceable
        // document had all of theirs replaced.
        let i = find(&groups, "4.4");
        assert_eq!((i.numerator, i.denominator, i.points), (7, 8, 2.0));
        assert_eq!(i.full_at, Some(0.8));
        assert_eq!(find(&groups, "4.5").numerator, 4);
        // 1.4: 5 of 8 in real time.
        let s = find(&groups, "1.4");
        assert_eq!((s.numerator, s.denominator), (5, 8));
        assert!((s.points - 3.75).abs() < 1e-9, "{}", s.points);
    }

    #[test]
    fn ratings_complaints_and_feedback_answers_count_for_satisfaction() {
        let unhappy = DossierFacts {
            satisfied: Some(false),
            ..dossier(1, Some(2))
        };
        let complained = DossierFacts {
            complained: true,
            ..dossier(1, Some(2))
        };
        let mut f = facts(vec![
            unhappy,
            complained,
            dossier(1, Some(2)),
            dossier(2, Some(3)),
        ]);
        f.feedback = vec![
            // Answered on time and settled.
            FeedbackFacts {
                received_at: NOV + DAY,
                due_at: NOV + 5 * DAY,
                answered_at: Some(NOV + 3 * DAY),
                settled: Some(true),
            },
            // Answered on time, not settled.
            FeedbackFacts {
                received_at: NOV + DAY,
                due_at: NOV + 5 * DAY,
                answered_at: Some(NOV + 4 * DAY),
                settled: Some(false),
            },
            // Answered late.
            FeedbackFacts {
                received_at: NOV + DAY,
                due_at: NOV + 5 * DAY,
                answered_at: Some(NOV + 9 * DAY),
                settled: None,
            },
            // Open, past its time limit.
            FeedbackFacts {
                received_at: NOV + 20 * DAY,
                due_at: NOV + 25 * DAY,
                answered_at: None,
                settled: None,
            },
        ];
        let groups = score(&f, NOV, DEC, Lang::Vi);
        let d = find(&groups, "6.1");
        assert_eq!((d.numerator, d.denominator), (2, 4));
        assert!((d.points - 3.33).abs() < 1e-9, "{}", d.points);
        let on_time = find(&groups, "6.2");
        assert_eq!(
            (on_time.numerator, on_time.denominator, on_time.points),
            (2, 4, 3.0)
        );
        let settled = find(&groups, "6.3");
        assert_eq!(
            (settled.numerator, settled.denominator, settled.points),
            (1, 3, 2.0)
        );
    }

    #[test]
    fn processing_times_are_working_day_quantiles_per_procedure() {
        // Received Monday 2 November; finished 0, 1, 2, …, 9 calendar days later at noon.
        let dossiers: Vec<DossierFacts> = (0..10)
            .map(|k| DossierFacts {
                received_at: Some(NOV + DAY + 9 * 3_600_000),
                finished_at: Some(NOV + (1 + k) * DAY + 12 * 3_600_000),
                ..dossier(1, Some(1))
            })
            .collect();
        let times = processing_times(&facts(dossiers));
        assert_eq!(times.len(), 1);
        let t = &times[0];
        assert_eq!(t.finished, 10);
        // Working days after Monday: 0,1,2,3,4,4,4,5,6,7 (the weekend adds none).
        assert_eq!(t.median_working_days, Some(4.0));
        assert_eq!(t.p90_working_days, Some(6.0));
        assert!(processing_times(&facts(Vec::new())).is_empty());
    }
}
