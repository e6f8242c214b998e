//! Custom models: user-given position weights and closures.

use std::fmt;

use crate::dataset::JourneyView;
use crate::error::{Error, Result};
use crate::model::{AttributionModel, Weights};
use crate::models::ModelSpec;

/// The largest weight [`PositionWeights`] accepts: `f64::MAX / 2^32`, so
/// the weights of a journey of up to 2^32 touches sum to a finite number.
const MAX_WEIGHT: f64 = f64::MAX / 4_294_967_296.0;

/// Where [`PositionWeights`] counts positions from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum From {
    Start,
    End,
}

/// User-given relative weights by position, counted from the first touch
/// ([`new`](Self::new)) or back from the last touch
/// ([`from_end`](Self::from_end)). Touches past the end of the list reuse
/// its last weight, so the list only needs to cover the positions that are
/// special.
///
/// The weights are **relative**: each journey's weights are normalized to
/// shares summing to one, so `[2.0, 1.0]` means "the first touch counts
/// twice as much as each other touch", whatever the journey's length.
///
/// Formula (from the start, weights `p_0 … p_{m−1}`): `w(i) = p_{min(i,
/// m−1)}`, `share(i) = w(i) / Σ w`. From the end, `i` counts back from the
/// last touch (`i = 0` is the last touch).
///
/// Edge cases: one touch gets 100% (its weight is `p_0 > 0`). Equal
/// timestamps keep input order.
/// A converted journey with no touch never reaches the model: the engine
/// credits it to the report's unassigned bucket.
///
/// # Worked example
///
/// Weights `[3, 1]` over three touches of $10: `3/5, 1/5, 1/5`, so $6, $2,
/// $2. From the end: $2, $2, $6.
///
/// ```
/// # use touchpoint::{Crediter, JourneySet, SimpleJourney, SimpleTouch};
/// use touchpoint::models::PositionWeights;
/// # let t = "2024-01-01T00:00:00Z".parse()?;
/// let j = SimpleJourney::new("j")
///     .touch(SimpleTouch::new("display", t))
///     .touch(SimpleTouch::new("email", t))
///     .touch(SimpleTouch::new("search", t))
///     .converted(10.0);
/// # let set = JourneySet::from_journeys([&j])?;
/// # let mut c = Crediter::new();
/// c.credit(&PositionWeights::new(vec![3.0, 1.0])?, &set.get(0).unwrap())?;
/// assert_eq!(c.values(), &[600, 200, 200]);
/// c.credit(&PositionWeights::from_end(vec![3.0, 1.0])?, &set.get(0).unwrap())?;
/// assert_eq!(c.values(), &[200, 200, 600]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct PositionWeights {
    weights: Vec<f64>,
    from: From,
}

impl PositionWeights {
    /// Relative weights by position from the first touch.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] (`weights`) if the list is empty, a
    /// weight is negative, NaN, infinite or above `f64::MAX / 2^32` (the
    /// sum over a long journey would overflow), or the first weight is 0 (a
    /// one-touch journey would have no weight).
    pub fn new(weights: Vec<f64>) -> Result<PositionWeights> {
        PositionWeights::build(weights, From::Start)
    }

    /// Relative weights by position counted back from the last touch
    /// (`weights[0]` is the last touch's).
    ///
    /// # Errors
    ///
    /// As [`new`](Self::new).
    pub fn from_end(weights: Vec<f64>) -> Result<PositionWeights> {
        PositionWeights::build(weights, From::End)
    }

    fn build(weights: Vec<f64>, from: From) -> Result<PositionWeights> {
        match weights.first() {
            None => {
                return Err(Error::param("weights", "[]", "at least one weight"));
            }
            Some(&w) if !(w.is_finite() && w > 0.0) => {
                return Err(Error::param(
                    "weights",
                    w,
                    "a first weight that is finite and > 0",
                ));
            }
            _ => {}
        }
        if let Some(&w) = weights
            .iter()
            .find(|w| !(w.is_finite() && **w >= 0.0 && **w <= MAX_WEIGHT))
        {
            return Err(Error::param(
                "weights",
                w,
                "finite weights >= 0, at most f64::MAX / 2^32",
            ));
        }
        Ok(PositionWeights { weights, from })
    }

    /// The weights as given.
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }
}

impl AttributionModel for PositionWeights {
    fn name(&self) -> &str {
        "position_weights"
    }
    fn spec(&self) -> Option<ModelSpec> {
        Some(ModelSpec::PositionWeights {
            weights: self.weights.clone(),
            from_end: self.from == From::End,
        })
    }

    fn weights(&self, j: &JourneyView<'_>, out: &mut Weights) -> Result<()> {
        let n = j.len();
        if n == 1 {
            out.all_to(0);
            return Ok(());
        }
        let p = &self.weights;
        let tail = p[p.len() - 1];
        let w = out.weighted();
        let head = n.min(p.len());
        w.extend_from_slice(&p[..head]);
        w.resize(n, tail);
        if self.from == From::End {
            w.reverse();
        }
        Ok(())
    }

    fn fingerprint(&self) -> String {
        let dir = match self.from {
            From::Start => "start",
            From::End => "end",
        };
        format!("position_weights(from={dir},weights={:?})", self.weights)
    }
}

/// A model defined by a closure that fills the [`Weights`] of one journey.
///
/// The closure gets each converted journey with at least one touch and
/// must set weights through [`Weights::all_to`], [`Weights::equal`] or
/// [`Weights::weighted`] (one finite, non-negative weight per touch, not
/// all zero). Weights it gets wrong become [`Error::InvalidWeights`] from
/// the engine; an error it returns is passed through.
///
/// The fingerprint is `fn(<name>)` unless set with
/// [`with_fingerprint`](Self::with_fingerprint): include any parameters the
/// closure captures, so partial reports of differently configured closures
/// refuse to merge.
///
/// # Worked example
///
/// "Last two touches share equally": three touches of $10 get $0, $5, $5.
///
/// ```
/// # use touchpoint::{Crediter, JourneySet, SimpleJourney, SimpleTouch};
/// use touchpoint::models::FnModel;
/// # let t = "2024-01-01T00:00:00Z".parse()?;
/// let last_two = FnModel::new("last_two", |j, w| {
///     let n = j.len();
///     let v = w.weighted();
///     v.extend((0..n).map(|i| if i + 2 >= n { 1.0 } else { 0.0 }));
///     Ok(())
/// });
/// let j = SimpleJourney::new("j")
///     .touch(SimpleTouch::new("display", t))
///     .touch(SimpleTouch::new("email", t))
///     .touch(SimpleTouch::new("search", t))
///     .converted(10.0);
/// # let set = JourneySet::from_journeys([&j])?;
/// # let mut c = Crediter::new();
/// c.credit(&last_two, &set.get(0).unwrap())?;
/// assert_eq!(c.values(), &[0, 500, 500]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct FnModel<F> {
    name: String,
    fingerprint: String,
    f: F,
}

impl<F> FnModel<F>
where
    F: Fn(&JourneyView<'_>, &mut Weights) -> Result<()> + Send + Sync,
{
    /// A model named `name` computed by `f`.
    pub fn new(name: impl Into<String>, f: F) -> FnModel<F> {
        let name = name.into();
        FnModel {
            fingerprint: format!("fn({name})"),
            name,
            f,
        }
    }

    /// Sets the fingerprint (name and parameters) that partial reports
    /// compare before merging.
    #[must_use]
    pub fn with_fingerprint(self, fingerprint: impl Into<String>) -> FnModel<F> {
        FnModel {
            fingerprint: fingerprint.into(),
            ..self
        }
    }
}

impl<F> fmt::Debug for FnModel<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FnModel")
            .field("name", &self.name)
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

impl<F> AttributionModel for FnModel<F>
where
    F: Fn(&JourneyView<'_>, &mut Weights) -> Result<()> + Send + Sync,
{
    fn name(&self) -> &str {
        &self.name
    }
    fn weights(&self, journey: &JourneyView<'_>, out: &mut Weights) -> Result<()> {
        (self.f)(journey, out)
    }
    fn fingerprint(&self) -> String {
        self.fingerprint.clone()
    }
}
