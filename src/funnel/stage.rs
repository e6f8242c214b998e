//! Funnel stages: the ordered progression and the exits.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The most progression stages (and, separately, exit stages) a funnel has.
pub const MAX_STAGES: usize = 16;

/// Where a stage name points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StageRef {
    /// Index into the progression.
    Progress(usize),
    /// Index into the exits.
    Exit(usize),
}

/// The funnel's stages: an ordered progression whose last stage is the win
/// (closed won), and exit stages that end a cycle without a win (closed
/// lost, disqualified, recycled).
///
/// Four progression stages play a role in the metrics: the MQL stage and the
/// SQL stage (acceptance rate), the opportunity stage (pipeline, velocity,
/// influence), and the last stage (won).
///
/// The default is `inquiry -> mql -> sal -> sql -> opportunity -> closed_won`
/// with exits `closed_lost`, `disqualified`, `recycled`.
///
/// **One spelling.** These lower-case names are the only ones accepted, in
/// Rust, JSON and error messages alike (`mql`, not `MQL` or `lead`; a
/// stage spelled otherwise is an error that lists these names). Prose
/// (README, reports) writes them inquiry, MQL, SAL, SQL, opportunity and
/// won, in that order. Other names are yours to choose with
/// [`Stages::new`].
///
/// # Example
///
/// ```
/// use touchpoint::funnel::Stages;
///
/// let s = Stages::default();
/// assert_eq!(s.progression()[1], "mql");
/// assert_eq!(s.won(), "closed_won");
/// let custom = Stages::new(&["lead", "mql", "sql", "opp", "won"], &["lost"])?
///     .with_roles("mql", "sql", "opp")?;
/// assert_eq!(custom.opportunity(), "opp");
/// assert!(Stages::new(&["only"], &[]).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "StagesWire")]
pub struct Stages {
    progression: Vec<String>,
    exits: Vec<String>,
    mql: usize,
    sql: usize,
    opportunity: usize,
}

/// The serialized form, validated into [`Stages`] on deserialization.
#[derive(Deserialize)]
struct StagesWire {
    progression: Vec<String>,
    exits: Vec<String>,
    mql: usize,
    sql: usize,
    opportunity: usize,
}

impl TryFrom<StagesWire> for Stages {
    type Error = Error;
    fn try_from(w: StagesWire) -> Result<Stages> {
        let p: Vec<&str> = w.progression.iter().map(String::as_str).collect();
        let x: Vec<&str> = w.exits.iter().map(String::as_str).collect();
        let s = Stages::new(&p, &x)?;
        let get = |i: usize| {
            p.get(i)
                .copied()
                .ok_or_else(|| Error::param("roles", i, "a progression stage index"))
        };
        s.with_roles(get(w.mql)?, get(w.sql)?, get(w.opportunity)?)
    }
}

impl Default for Stages {
    fn default() -> Stages {
        Stages {
            progression: ["inquiry", "mql", "sal", "sql", "opportunity", "closed_won"]
                .map(String::from)
                .to_vec(),
            exits: ["closed_lost", "disqualified", "recycled"]
                .map(String::from)
                .to_vec(),
            mql: 1,
            sql: 3,
            opportunity: 4,
        }
    }
}

impl Stages {
    /// Custom stages: `progression` in funnel order (the last one is the
    /// win), `exits` in any order. Roles default to: MQL = the second stage
    /// (the first if there are only two), SQL = opportunity = the stage
    /// before the last; set them with [`with_roles`](Self::with_roles).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] when there are fewer than 2 or more than
    /// [`MAX_STAGES`] progression stages, more than [`MAX_STAGES`] exits, an
    /// empty name, or a name used twice.
    pub fn new(progression: &[&str], exits: &[&str]) -> Result<Stages> {
        if progression.len() < 2 || progression.len() > MAX_STAGES {
            return Err(Error::param(
                "progression",
                progression.len(),
                "2 to 16 progression stages",
            ));
        }
        if exits.len() > MAX_STAGES {
            return Err(Error::param("exits", exits.len(), "at most 16 exit stages"));
        }
        let all: Vec<&str> = progression.iter().chain(exits).copied().collect();
        for (i, n) in all.iter().enumerate() {
            if n.is_empty() {
                return Err(Error::param("stage", "\"\"", "a non-empty stage name"));
            }
            if all[..i].contains(n) {
                return Err(Error::param("stage", n, "stage names used once"));
            }
        }
        let p = progression.len();
        Ok(Stages {
            progression: progression.iter().map(|s| (*s).to_owned()).collect(),
            exits: exits.iter().map(|s| (*s).to_owned()).collect(),
            mql: usize::from(p > 2),
            sql: p - 2,
            opportunity: p - 2,
        })
    }

    /// Sets which progression stages are the MQL, SQL and opportunity stages.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownName`] for a name that is not a progression stage;
    /// [`Error::InvalidParameter`] unless `mql <= sql <= opportunity` in
    /// funnel order and the opportunity stage comes before the win.
    pub fn with_roles(self, mql: &str, sql: &str, opportunity: &str) -> Result<Stages> {
        let find = |n: &str| {
            self.progression
                .iter()
                .position(|s| s == n)
                .ok_or_else(|| Error::UnknownName {
                    kind: "stage",
                    name: n.to_owned(),
                })
        };
        let (m, s, o) = (find(mql)?, find(sql)?, find(opportunity)?);
        if !(m <= s && s <= o && o + 1 < self.progression.len()) {
            return Err(Error::param(
                "roles",
                format!("{mql}, {sql}, {opportunity}"),
                "mql <= sql <= opportunity, all before the last (won) stage",
            ));
        }
        Ok(Stages {
            mql: m,
            sql: s,
            opportunity: o,
            ..self
        })
    }

    /// The progression stages, in funnel order.
    pub fn progression(&self) -> &[String] {
        &self.progression
    }
    /// The exit stages.
    pub fn exits(&self) -> &[String] {
        &self.exits
    }
    /// The MQL stage's name.
    pub fn mql(&self) -> &str {
        &self.progression[self.mql]
    }
    /// The SQL stage's name.
    pub fn sql(&self) -> &str {
        &self.progression[self.sql]
    }
    /// The opportunity stage's name.
    pub fn opportunity(&self) -> &str {
        &self.progression[self.opportunity]
    }
    /// The last (won) stage's name.
    pub fn won(&self) -> &str {
        &self.progression[self.progression.len() - 1]
    }
    /// Index of a progression stage, by name.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownName`] when `name` is not a progression stage.
    pub fn index(&self, name: &str) -> Result<usize> {
        self.progression
            .iter()
            .position(|s| s == name)
            .ok_or_else(|| Error::UnknownName {
                kind: "stage",
                name: name.to_owned(),
            })
    }

    #[inline]
    pub(crate) fn find(&self, name: &str) -> Option<StageRef> {
        // short names: a byte loop beats a memcmp call
        #[inline]
        fn eq(a: &str, b: &str) -> bool {
            a.len() == b.len() && a.bytes().zip(b.bytes()).all(|(x, y)| x == y)
        }
        if let Some(i) = self.progression.iter().position(|s| eq(s, name)) {
            return Some(StageRef::Progress(i));
        }
        self.exits
            .iter()
            .position(|s| eq(s, name))
            .map(StageRef::Exit)
    }
    pub(crate) fn len(&self) -> usize {
        self.progression.len()
    }
    pub(crate) fn mql_index(&self) -> usize {
        self.mql
    }
    pub(crate) fn sql_index(&self) -> usize {
        self.sql
    }
    pub(crate) fn opportunity_index(&self) -> usize {
        self.opportunity
    }
    pub(crate) fn won_index(&self) -> usize {
        self.progression.len() - 1
    }
    pub(crate) fn fingerprint(&self) -> String {
        format!(
            "stages={};exits={};roles={},{},{}",
            self.progression.join(">"),
            self.exits.join("|"),
            self.mql,
            self.sql,
            self.opportunity
        )
    }
}
