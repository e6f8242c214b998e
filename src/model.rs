//! The [`AttributionModel`] trait and the [`Weights`] buffer models fill.

use crate::dataset::JourneyView;
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
#[derive(Debug, Clone, Default)]
pub struct Weights {
    shape: Shape,
    buf: Vec<f64>,
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
        self.buf.clear();
        &mut self.buf
    }

    /// Resets the buffer (done by the engine before each journey).
    pub fn clear(&mut self) {
        self.shape = Shape::Unset;
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

impl<M: AttributionModel + ?Sized> AttributionModel for &M {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn weights(&self, journey: &JourneyView<'_>, out: &mut Weights) -> Result<()> {
        (**self).weights(journey, out)
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

impl<M: AttributionModel + ?Sized> AttributionModel for Box<M> {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn weights(&self, journey: &JourneyView<'_>, out: &mut Weights) -> Result<()> {
        (**self).weights(journey, out)
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

#[cfg(test)]
mod tests {
    use super::*;

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
