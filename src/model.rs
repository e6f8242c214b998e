//! The [`AttributionModel`] trait, the [`Weights`] buffer models fill, and
//! the per-catalog lookups of fitted models ([`ChannelList`], [`Binding`],
//! [`ChannelMap`]).

use crate::dataset::{Catalog, ChannelId, JourneyView, Stamp};
use crate::error::Result;
use crate::models::ModelSpec;

/// How a model's weights turn into credit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum CreditKind {
    /// Weights are normalized per journey: the journey's value and its one
    /// conversion are shared among its touches in proportion to the weights,
    /// so each converted journey's credit sums to exactly its value.
    #[default]
    Shares,
    /// Every touch with a non-zero weight gets the journey's full value and
    /// one full conversion. Credits do not sum to the totals (participation
    /// model).
    Full,
}

/// The weights a model gives the touches of one journey.
///
/// A model fills it through one of three calls: [`all_to`](Self::all_to)
/// (one touch gets everything), [`equal`](Self::equal) (every touch the
/// same), or [`weighted`](Self::weighted) (any non-negative weights, one per
/// touch, normalized by the engine). The first two let the engine skip the
/// general apportionment.
///
/// # Example
///
/// ```
/// use touchpoint::Weights;
///
/// let mut w = Weights::new();
/// w.weighted().extend([1.0, 1.0, 2.0]);
/// assert_eq!(w.shares(3), vec![0.25, 0.25, 0.5]);
/// w.all_to(2);
/// assert_eq!(w.shares(3), vec![0.0, 0.0, 1.0]);
/// ```
#[derive(Debug, Clone)]
pub struct Weights {
    shape: Shape,
    buf: Vec<f64>,
    /// The sum of `buf` in index order, when a built-in model vouched for
    /// it with [`Weights::set_sum`] (weights finite and `>= 0`, sum finite
    /// and `> 0`); NaN otherwise. Read only for the weighted shape, which
    /// only [`Weights::weighted`] sets, and which resets it.
    sum: f64,
}

/// What a [`Weights`] buffer holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Shape {
    /// Nothing yet (the journey has no touch, or the model set nothing).
    #[default]
    Unset,
    /// One touch gets everything.
    Single(usize),
    /// Every touch gets the same.
    Equal,
    /// `buf` holds one weight per touch.
    Weighted,
}

impl Default for Weights {
    fn default() -> Weights {
        Weights {
            shape: Shape::Unset,
            buf: Vec::new(),
            sum: f64::NAN,
        }
    }
}

impl Weights {
    /// An empty buffer.
    pub fn new() -> Weights {
        Weights::default()
    }

    /// Gives all credit to touch `index`.
    pub fn all_to(&mut self, index: usize) {
        self.shape = Shape::Single(index);
    }

    /// Gives every touch the same credit.
    pub fn equal(&mut self) {
        self.shape = Shape::Equal;
    }

    /// Returns the cleared weight vector to fill with one non-negative
    /// weight per touch, in time order. The engine normalizes them.
    pub fn weighted(&mut self) -> &mut Vec<f64> {
        self.shape = Shape::Weighted;
        self.sum = f64::NAN;
        self.buf.clear();
        &mut self.buf
    }

    /// Resets the buffer (done by the engine before each journey).
    pub fn clear(&mut self) {
        self.shape = Shape::Unset;
    }

    /// After filling [`weighted`](Self::weighted): `sum` is the sum of the
    /// weights added in index order from `0.0` (the bits [`check`]
    /// computes), every weight is finite and `>= 0`, and `sum` is finite
    /// and `> 0`, so that [`check`](Self::check) need not pass over the
    /// weights again. For built-in models whose weights are so by
    /// construction (time decay: `2^-x <= 1` with the youngest touch at 1).
    ///
    /// [`check`]: Self::check
    #[inline]
    pub(crate) fn set_sum(&mut self, sum: f64) {
        debug_assert!(self.shape == Shape::Weighted);
        debug_assert_eq!(
            sum.to_bits(),
            self.buf.iter().fold(0.0, |s, w| s + w).to_bits(),
            "the sum in index order"
        );
        debug_assert!(self.buf.iter().all(|w| w.is_finite() && *w >= 0.0));
        self.sum = sum;
    }

    pub(crate) fn shape(&self) -> Shape {
        self.shape
    }

    pub(crate) fn raw(&self) -> &[f64] {
        &self.buf
    }

    /// The normalized shares for a journey of `len` touches (they sum to 1
    /// unless no weight is set or all are zero, when all are 0).
    ///
    /// # Panics
    ///
    /// Like `vec![0.0; len]`, if `len` floats cannot be allocated.
    pub fn shares(&self, len: usize) -> Vec<f64> {
        let mut out = vec![0.0; len];
        match self.shape {
            Shape::Unset => {}
            Shape::Single(i) => {
                if let Some(x) = out.get_mut(i) {
                    *x = 1.0;
                }
            }
            Shape::Equal => {
                if len > 0 {
                    #[expect(clippy::cast_precision_loss, reason = "journey lengths are small")]
                    let s = 1.0 / len as f64;
                    out.fill(s);
                }
            }
            Shape::Weighted => {
                let sum: f64 = self.buf.iter().sum();
                if sum > 0.0 {
                    for (o, w) in out.iter_mut().zip(&self.buf) {
                        *o = w / sum;
                    }
                }
            }
        }
        out
    }

    /// Checks the buffer against a journey of `len` touches; returns the sum
    /// of the weights (1 for the single and equal shapes) or what is wrong.
    #[inline]
    pub(crate) fn check(&self, len: usize) -> std::result::Result<f64, String> {
        match self.shape {
            Shape::Single(i) if i < len => Ok(1.0),
            Shape::Equal => Ok(1.0),
            Shape::Weighted if self.buf.len() == len => {
                // `set_sum`'s promise: the loop below would give this
                if self.sum > 0.0 && self.sum.is_finite() {
                    return Ok(self.sum);
                }
                let mut sum = 0.0;
                let mut ok = true;
                for &w in &self.buf {
                    // NaN fails `>= 0`; an infinite weight makes the sum
                    // infinite, which the test below refuses
                    ok &= w >= 0.0;
                    sum += w;
                }
                if ok && sum > 0.0 && sum.is_finite() {
                    Ok(sum)
                } else {
                    Err(self.problem(len))
                }
            }
            _ => Err(self.problem(len)),
        }
    }

    /// Describes why [`check`](Self::check) failed.
    #[cold]
    fn problem(&self, len: usize) -> String {
        match self.shape {
            Shape::Unset => "the model set no weights".into(),
            Shape::Single(i) => format!("touch index {i} out of range for {len} touches"),
            Shape::Equal => "no problem".into(),
            Shape::Weighted => {
                if self.buf.len() != len {
                    return format!("{} weights for {len} touches", self.buf.len());
                }
                if let Some((i, w)) = self
                    .buf
                    .iter()
                    .enumerate()
                    .find(|(_, w)| !(w.is_finite() && **w >= 0.0))
                {
                    return format!("weight {w} at touch {i} is not finite and >= 0");
                }
                format!("weights sum to {}", self.buf.iter().sum::<f64>())
            }
        }
    }
}

/// A model that gives each touchpoint of one journey its share of the credit.
///
/// The trait is object-safe, so models of different types can be compared
/// through `Vec<Box<dyn AttributionModel>>`. It sees a concrete
/// [`JourneyView`] (touches sorted by time, interned channel ids, times in
/// Unix ms) and fills a [`Weights`] buffer; the engine in
/// [`attribute`](crate::attribute) turns weights into exact integer credit.
///
/// Data-driven models (Markov, Shapley, incremental) are first *fitted* on
/// many journeys; the fitted model then implements this trait.
///
/// # Per-catalog lookups
///
/// A fitted model knows channels by name ([`ChannelList`]); a journey
/// carries catalog ids. The engine calls
/// [`weights_bound`](Self::weights_bound) with a [`Binding`] it keeps for
/// the whole set (or the whole stream): the model maps the catalog's ids to
/// its own indices there once per catalog, extended when the catalog grows,
/// and then reads one `Vec` entry per touch, with no name compared. A
/// model that does not depend on channel names (every rule-based model, and
/// the custom model below) implements [`weights`](Self::weights) only: the
/// provided `weights_bound` calls it.
///
/// # Example: a custom model
///
/// ```
/// use touchpoint::{AttributionModel, JourneyView, Weights, Result};
///
/// /// All credit to the second touch (or the only one).
/// struct SecondTouch;
///
/// impl AttributionModel for SecondTouch {
///     fn name(&self) -> &str { "second_touch" }
///     fn weights(&self, j: &JourneyView<'_>, w: &mut Weights) -> Result<()> {
///         w.all_to(if j.len() > 1 { 1 } else { 0 });
///         Ok(())
///     }
/// }
/// let models: Vec<Box<dyn AttributionModel>> = vec![Box::new(SecondTouch)];
/// assert_eq!(models[0].name(), "second_touch");
/// ```
pub trait AttributionModel: Send + Sync {
    /// A short `snake_case` name (`"linear"`, `"time_decay"`).
    fn name(&self) -> &str;

    /// Fills `out` with the weights of `journey`'s touches. Called only for
    /// journeys with at least one touch; `out` is cleared before the call.
    ///
    /// # Errors
    ///
    /// A model may fail on a journey it cannot credit; built-in rule-based
    /// models never fail here.
    fn weights(&self, journey: &JourneyView<'_>, out: &mut Weights) -> Result<()>;

    /// [`weights`](Self::weights), given a [`Binding`] the caller keeps
    /// across the journeys of one catalog (the engine keeps one per set,
    /// and one per streaming partial). A model that credits by channel
    /// resolves the journey's ids through
    /// [`Binding::map`](Binding::map) instead of looking their names up;
    /// the result must be the same as `weights`'s, bit for bit. Default:
    /// ignores the binding and calls [`weights`](Self::weights).
    ///
    /// # Errors
    ///
    /// As [`weights`](Self::weights).
    ///
    /// # Example
    ///
    /// A model that gives each touch the weight of its channel, known by
    /// name:
    ///
    /// ```
    /// use touchpoint::{
    ///     AttributionModel, Binding, ChannelList, JourneySet, JourneyView, Result, SimpleJourney,
    ///     SimpleTouch, Weights, attribute,
    /// };
    ///
    /// struct ByChannel {
    ///     channels: ChannelList,   // sorted names
    ///     weight: Vec<f64>,        // one per name
    /// }
    ///
    /// impl AttributionModel for ByChannel {
    ///     fn name(&self) -> &str { "by_channel" }
    ///     // direct calls: one name lookup per touch
    ///     fn weights(&self, j: &JourneyView<'_>, w: &mut Weights) -> Result<()> {
    ///         let cat = j.catalog();
    ///         w.weighted().extend(j.channels().iter().map(|&id| {
    ///             self.channels.index(cat.channel_name(id)).map_or(0.0, |i| self.weight[i])
    ///         }));
    ///         Ok(())
    ///     }
    ///     // the engine: names resolved once per catalog, one index per touch
    ///     fn weights_bound(
    ///         &self,
    ///         j: &JourneyView<'_>,
    ///         binding: &mut Binding,
    ///         w: &mut Weights,
    ///     ) -> Result<()> {
    ///         let map = binding.map(&self.channels, j.catalog());
    ///         w.weighted().extend(
    ///             j.channels().iter().map(|&id| map.get(id).map_or(0.0, |i| self.weight[i])),
    ///         );
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let model = ByChannel {
    ///     channels: ChannelList::new(["email", "search"]),
    ///     weight: vec![1.0, 3.0],
    /// };
    /// let t = "2024-01-01T00:00:00Z".parse()?;
    /// let j = SimpleJourney::new("j")
    ///     .touch(SimpleTouch::new("search", t))
    ///     .touch(SimpleTouch::new("email", t))
    ///     .converted(100.0);
    /// let report = attribute(&model, &JourneySet::from_journeys([&j])?)?;
    /// assert_eq!(report.channels().get("search").unwrap().value_minor(), 7500);
    /// assert_eq!(report.channels().get("email").unwrap().value_minor(), 2500);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn weights_bound(
        &self,
        journey: &JourneyView<'_>,
        binding: &mut Binding,
        out: &mut Weights,
    ) -> Result<()> {
        let _ = binding;
        self.weights(journey, out)
    }

    /// How weights become credit. Default: [`CreditKind::Shares`].
    fn kind(&self) -> CreditKind {
        CreditKind::Shares
    }

    /// A string that identifies the model's configuration (name and
    /// parameters). Partial reports made with different fingerprints refuse
    /// to merge. Default: the name.
    fn fingerprint(&self) -> String {
        self.name().to_owned()
    }

    /// The model as plain data, if it can travel as data: every built-in
    /// rule-based model returns its [`ModelSpec`], whose
    /// [`build`](ModelSpec::build) makes a model with the same fingerprint.
    /// Closures and fitted models return `None` (the default): a partial
    /// made for them is re-attached to the model by hand after a serde
    /// round trip (see [`CreditPartial`](crate::CreditPartial)).
    fn spec(&self) -> Option<ModelSpec> {
        None
    }
}

/// Implements [`AttributionModel`] for pointers to a model (`&M`, `Box<M>`,
/// `Arc<M>`) by calling the pointee's methods, every one of them: a
/// provided method the model overrides (`weights_bound`, `kind`, ...) is
/// never lost behind a reference or a box. A method added to the trait is
/// added here once.
macro_rules! delegate_to_pointee {
    ($($pointer:ty),+ $(,)?) => {$(
        impl<M: AttributionModel + ?Sized> AttributionModel for $pointer {
            fn name(&self) -> &str {
                (**self).name()
            }
            fn weights(&self, journey: &JourneyView<'_>, out: &mut Weights) -> Result<()> {
                (**self).weights(journey, out)
            }
            fn weights_bound(
                &self,
                journey: &JourneyView<'_>,
                binding: &mut Binding,
                out: &mut Weights,
            ) -> Result<()> {
                (**self).weights_bound(journey, binding, out)
            }
            fn kind(&self) -> CreditKind {
                (**self).kind()
            }
            fn fingerprint(&self) -> String {
                (**self).fingerprint()
            }
            fn spec(&self) -> Option<ModelSpec> {
                (**self).spec()
            }
        }
    )+};
}

delegate_to_pointee!(&M, Box<M>, std::sync::Arc<M>);

/// A fitted model's channels: names sorted and unique, with an identity
/// that lets a [`Binding`] know it was made for this list.
///
/// Build it once when the model is fitted; look names up with
/// [`index`](Self::index) (a binary search) or, per catalog, through a
/// [`Binding`]. Two lists with the same names compare equal; clones are
/// the same names under a new identity (a binding made for the original
/// is rebuilt once for the clone).
///
/// # Example
///
/// ```
/// use touchpoint::ChannelList;
///
/// let list = ChannelList::new(["search", "email", "search"]);
/// assert_eq!(list.names(), ["email", "search"]);
/// assert_eq!(list.index("search"), Some(1));
/// assert_eq!(list.index("tv"), None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChannelList {
    names: Vec<String>,
    stamp: Stamp,
}

impl ChannelList {
    /// The list of `names`, sorted by name, duplicates removed.
    pub fn new<I, S>(names: I) -> ChannelList
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut names: Vec<String> = names.into_iter().map(Into::into).collect();
        names.sort_unstable();
        names.dedup();
        ChannelList {
            names,
            stamp: Stamp::default(),
        }
    }

    /// The list of `names` as given, which the caller has sorted and made
    /// unique (a fitted model's canonical channels, whose order its other
    /// tables follow).
    pub(crate) fn from_sorted(names: Vec<String>) -> ChannelList {
        debug_assert!(names.windows(2).all(|w| w[0] < w[1]), "unsorted channels");
        ChannelList {
            names,
            stamp: Stamp::default(),
        }
    }

    /// The names, sorted.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The position of `name` in [`names`](Self::names), if present.
    pub fn index(&self, name: &str) -> Option<usize> {
        self.names.binary_search_by(|n| n.as_str().cmp(name)).ok()
    }

    /// How many names.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether the list has no name.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// Marks a catalog id whose name is not in the list.
const NOT_LISTED: u32 = u32::MAX;

/// The caller's cache of one catalog's channel ids mapped to one
/// [`ChannelList`]'s indices: what
/// [`AttributionModel::weights_bound`] receives.
///
/// [`map`](Self::map) builds the table the first time, reuses it while the
/// list and the catalog are the same (one comparison of two identities
/// and a length per call), maps only the new ids when the catalog has grown
/// (a streaming partial interns names as journeys arrive; ids are never
/// renumbered), and rebuilds it for another list or catalog. Cost: one
/// binary search per catalog channel per list, 4 bytes per catalog channel;
/// then one `Vec` read per touch. A binding never changes results, only
/// how fast ids are resolved.
///
/// # Example
///
/// ```
/// use touchpoint::{Binding, ChannelList, JourneySet, SimpleJourney, SimpleTouch};
///
/// let t = "2024-01-01T00:00:00Z".parse()?;
/// let j = SimpleJourney::new("j")
///     .touch(SimpleTouch::new("tv", t))
///     .touch(SimpleTouch::new("search", t));
/// let set = JourneySet::from_journeys([&j])?;
/// let list = ChannelList::new(["email", "search"]);
/// let mut binding = Binding::new();
/// let map = binding.map(&list, set.catalog());
/// let view = set.get(0).unwrap();
/// let ids: Vec<Option<usize>> = view.channels().iter().map(|&id| map.get(id)).collect();
/// assert_eq!(ids, [None, Some(1)]); // tv is not listed
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Binding {
    /// Identity of the list the table was made for (0: none).
    list: u64,
    /// Identity of the catalog's channel interner (0: none).
    catalog: u64,
    /// Catalog channel id -> list index, or [`NOT_LISTED`].
    table: Vec<u32>,
}

impl Binding {
    /// An empty binding (the first [`map`](Self::map) fills it).
    pub fn new() -> Binding {
        Binding::default()
    }

    /// The ids of `catalog` mapped to indices of `list`: built on the first
    /// call, reused while `list` and `catalog` are the same values, extended
    /// by the names `catalog` interned since, rebuilt for another list or
    /// catalog.
    pub fn map(&mut self, list: &ChannelList, catalog: &Catalog) -> ChannelMap<'_> {
        let names = &catalog.channels;
        let (l, c) = (list.stamp.id(), names.stamp());
        if self.list != l || self.catalog != c {
            self.list = l;
            self.catalog = c;
            self.table.clear();
        }
        // only the ids interned since the last call (none, usually)
        for id in self.table.len()..names.len() {
            let i = u32::try_from(id)
                .ok()
                .and_then(|id| names.name(id))
                .and_then(|name| list.index(name))
                .and_then(|i| u32::try_from(i).ok());
            self.table.push(i.unwrap_or(NOT_LISTED));
        }
        ChannelMap { table: &self.table }
    }
}

/// Catalog channel ids resolved to a [`ChannelList`]'s indices, from
/// [`Binding::map`].
#[derive(Debug, Clone, Copy)]
pub struct ChannelMap<'a> {
    table: &'a [u32],
}

impl ChannelMap<'_> {
    /// The list index of `id`'s channel, or `None` if the list does not
    /// have it. `id` must come from the catalog the map was made for, as a
    /// journey's ids come from its view's catalog (an id past that
    /// catalog's end gives `None`).
    #[inline]
    pub fn get(&self, id: ChannelId) -> Option<usize> {
        match self.table.get(id.index()) {
            Some(&i) if i != NOT_LISTED => Some(i as usize),
            _ => None,
        }
    }
}

/// Helpers for the fitted models' tests: journeys to fit on, and the check
/// that the bound path gives the by-name path's bits.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use crate::dataset::JourneySet;
    use crate::journey::SimpleJourney;
    use crate::touchpoint::SimpleTouch;

    /// `n` journeys over `channels` (splitmix64 from `seed`): 1 to 8
    /// touches an hour apart, converting about half the time (more with
    /// the first channel), worth 1.00 to 100.00.
    pub(crate) fn journeys(n: usize, seed: u64, channels: &[&str]) -> Vec<SimpleJourney> {
        let mut s = seed;
        let mut next = || {
            s = s.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = s;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        let t0 = chrono::DateTime::UNIX_EPOCH;
        (0..n)
            .map(|i| {
                let mut j = SimpleJourney::new(format!("j{i}"));
                let len = 1 + next() % 8;
                let mut odds = 30;
                for k in 0..len {
                    let c = (next() % channels.len() as u64) as usize;
                    odds += if c == 0 { 25 } else { 5 };
                    let t = t0 + chrono::TimeDelta::hours((i as i64) * 10 + k as i64);
                    j = j.touch(SimpleTouch::new(channels[c], t));
                }
                if next() % 100 < odds {
                    j = j.converted((1 + next() % 10_000) as f64 / 100.0);
                }
                j
            })
            .collect()
    }

    fn bits(w: &Weights, n: usize) -> (Shape, Vec<u64>) {
        let raw = match w.shape() {
            Shape::Weighted => w.raw().iter().map(|x| x.to_bits()).collect(),
            _ => Vec::new(),
        };
        assert_eq!(w.shares(n).len(), n);
        (w.shape(), raw)
    }

    /// `model.weights_bound` gives `model.weights`'s bits on every journey
    /// of `js`: pushed one at a time into one set, so the catalog grows
    /// under one binding; then on a set of the same journeys reversed (the
    /// names at other ids) with the same binding, which must rebuild.
    pub(crate) fn check_bound_matches_by_name(model: &dyn AttributionModel, js: &[SimpleJourney]) {
        let (mut by_name, mut bound) = (Weights::new(), Weights::new());
        let mut binding = Binding::new();
        let mut set = JourneySet::new();
        let mut compare = |set: &JourneySet, i: usize, binding: &mut Binding| {
            let v = set.get(i).expect("journey");
            if v.is_empty() {
                return;
            }
            by_name.clear();
            bound.clear();
            model.weights(&v, &mut by_name).expect("weights");
            model
                .weights_bound(&v, binding, &mut bound)
                .expect("weights_bound");
            assert_eq!(
                bits(&by_name, v.len()),
                bits(&bound, v.len()),
                "{}: journey {}",
                model.fingerprint(),
                v.id()
            );
        };
        for (i, j) in js.iter().enumerate() {
            set.push(j).expect("journey");
            compare(&set, i, &mut binding);
        }
        let reversed = JourneySet::from_journeys(js.iter().rev()).expect("journeys");
        for i in 0..reversed.len() {
            compare(&reversed, i, &mut binding);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::JourneySet;
    use crate::journey::SimpleJourney;
    use crate::touchpoint::SimpleTouch;

    fn set_of(channels: &[&str]) -> JourneySet {
        let t = chrono::DateTime::UNIX_EPOCH;
        let mut j = SimpleJourney::new("j");
        for c in channels {
            j = j.touch(SimpleTouch::new(*c, t));
        }
        JourneySet::from_journeys([&j]).unwrap()
    }

    fn mapped(binding: &mut Binding, list: &ChannelList, set: &JourneySet) -> Vec<Option<usize>> {
        let map = binding.map(list, set.catalog());
        set.get(0)
            .unwrap()
            .channels()
            .iter()
            .map(|&id| map.get(id))
            .collect()
    }

    #[test]
    fn channel_list_sorts_and_finds() {
        let list = ChannelList::new(["tv", "email", "search", "email"]);
        assert_eq!(list.names(), ["email", "search", "tv"]);
        assert_eq!(list.len(), 3);
        assert_eq!(
            ["tv", "email", "radio", ""].map(|n| list.index(n)),
            [Some(2), Some(0), None, None]
        );
        assert!(ChannelList::default().is_empty());
        // equal by names, whatever the identity
        assert_eq!(list.clone(), list);
    }

    #[test]
    fn binding_grows_with_the_catalog() {
        let list = ChannelList::new(["email", "search"]);
        let mut set = set_of(&["tv", "search"]);
        let mut b = Binding::new();
        assert_eq!(mapped(&mut b, &list, &set), [None, Some(1)]);
        assert_eq!(b.table.len(), 2);
        // the catalog grows (a stream): only the new id is mapped
        let t = chrono::DateTime::UNIX_EPOCH;
        let j = SimpleJourney::new("k")
            .touch(SimpleTouch::new("email", t))
            .touch(SimpleTouch::new("search", t));
        set.push(&j).unwrap();
        let map = b.map(&list, set.catalog());
        let v = set.get(1).unwrap();
        let got: Vec<Option<usize>> = v.channels().iter().map(|&id| map.get(id)).collect();
        assert_eq!(got, [Some(0), Some(1)]);
        assert_eq!(b.table, [NOT_LISTED, 1, 0]);
    }

    #[test]
    fn binding_rebuilds_for_another_catalog_or_list() {
        let list = ChannelList::new(["a", "b"]);
        // two catalogs of the same length, names at swapped ids
        let (ab, ba) = (set_of(&["a", "b"]), set_of(&["b", "a"]));
        let mut b = Binding::new();
        for _ in 0..2 {
            assert_eq!(mapped(&mut b, &list, &ab), [Some(0), Some(1)]);
            assert_eq!(mapped(&mut b, &list, &ba), [Some(1), Some(0)]);
        }
        // a clone of a catalog may grow apart: it is another catalog
        let mut copy = ab.clone();
        assert_eq!(mapped(&mut b, &list, &copy), [Some(0), Some(1)]);
        assert_eq!(mapped(&mut b, &list, &ab), [Some(0), Some(1)]);
        copy.push(
            &SimpleJourney::new("c").touch(SimpleTouch::new("b", chrono::DateTime::UNIX_EPOCH)),
        )
        .unwrap();
        assert_eq!(mapped(&mut b, &list, &copy), [Some(0), Some(1)]);
        // another list, even with the same names at other positions
        let other = ChannelList::new(["0", "b"]);
        assert_eq!(mapped(&mut b, &other, &ab), [None, Some(1)]);
        assert_eq!(mapped(&mut b, &list, &ab), [Some(0), Some(1)]);
        // a deserialized catalog is a new one
        let back: JourneySet = serde_json::from_str(&serde_json::to_string(&ba).unwrap()).unwrap();
        assert_eq!(mapped(&mut b, &list, &back), [Some(1), Some(0)]);
    }

    #[test]
    fn default_weights_bound_calls_weights() {
        struct Last;
        impl AttributionModel for Last {
            fn name(&self) -> &str {
                "last"
            }
            fn weights(&self, j: &JourneyView<'_>, w: &mut Weights) -> Result<()> {
                w.all_to(j.len() - 1);
                Ok(())
            }
        }
        let set = set_of(&["a", "b", "c"]);
        let mut w = Weights::new();
        let mut b = Binding::new();
        // through the model, a reference, a box and an Arc
        let boxed: Box<dyn AttributionModel> = Box::new(Last);
        let shared: std::sync::Arc<dyn AttributionModel> = std::sync::Arc::new(Last);
        let models: [&dyn AttributionModel; 4] = [&Last, &&Last, &boxed, &shared];
        for m in models {
            w.clear();
            m.weights_bound(&set.get(0).unwrap(), &mut b, &mut w)
                .unwrap();
            assert_eq!(w.shares(3), [0.0, 0.0, 1.0]);
            assert_eq!(m.name(), "last");
        }
        assert!(b.table.is_empty(), "the default never maps");
    }

    fn _object_safe(_: &dyn AttributionModel) {}

    #[test]
    fn validate_rejects_bad_weights() {
        let mut w = Weights::new();
        assert!(w.check(2).is_err());
        w.weighted().extend([1.0, f64::NAN]);
        assert!(w.check(2).is_err());
        w.weighted().extend([0.0, 0.0]);
        assert!(w.check(2).is_err());
        w.weighted().extend([1.0]);
        assert!(w.check(2).is_err());
        w.all_to(2);
        assert!(w.check(2).is_err());
        w.all_to(1);
        assert!(w.check(2).is_ok());
    }
}
