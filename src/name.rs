//! [`Name`]: the string type of [`SimpleTouch`](crate::SimpleTouch)'s
//! channel, campaign and content.

use std::borrow::{Borrow, Cow};
use std::fmt;
use std::ops::Deref;

use compact_str::CompactString;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An immutable name (a channel, campaign or content asset) that keeps up
/// to [`Name::INLINE`] bytes inline (24 on 64-bit targets), in the room a
/// `String` takes, and only longer names on the heap.
///
/// [`SimpleTouch`](crate::SimpleTouch) holds its names as `Name`s so that a
/// touch carries its short names with it: reading them reads the touch
/// and nothing else, and a set of journeys built or deserialized touch by
/// touch makes no allocation per name. Streaming such journeys through a
/// model ([`CreditPartial::observe`](crate::CreditPartial::observe), the
/// Markov and Shapley fits) waits on one memory location per touch
/// instead of up to four; see `DESIGN.md` for the figures.
///
/// A `Name` reads as a `&str` ([`Deref`], [`AsRef`], [`Borrow`]), compares,
/// orders and hashes as its string does (so a `HashMap<Name, _>` is looked
/// up by `&str`), is built from `&str`, `String`, `Box<str>`, `Cow<str>`
/// and `char` ([`From`]), and serializes as a plain string. It cannot be
/// edited in place: build a new one (`Name::from(s.to_lowercase())`).
///
/// # Example
///
/// ```
/// use touchpoint::Name;
///
/// let n = Name::from("paid_search");
/// assert_eq!(n, "paid_search");
/// assert_eq!(n.as_str().len(), 11);
/// assert!(n.is_inline()); // 11 bytes: inline on every target
/// let long = Name::from("2024-q3-spring-webinar-series-retargeting");
/// assert!(!long.is_inline());
/// assert_eq!(String::from(long), "2024-q3-spring-webinar-series-retargeting");
/// ```
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Name(CompactString);

impl Name {
    /// The most bytes a name keeps inline, the size of a `String` (24 on
    /// 64-bit targets, 12 on 32-bit ones); longer names are on the heap.
    pub const INLINE: usize = std::mem::size_of::<String>();

    /// The name as a string slice.
    #[inline(always)]
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// Whether the name is held inline (at most [`Name::INLINE`] bytes).
    pub fn is_inline(&self) -> bool {
        !self.0.is_heap_allocated()
    }
}

impl Deref for Name {
    type Target = str;
    #[inline(always)]
    fn deref(&self) -> &str {
        self.0.as_str()
    }
}

impl AsRef<str> for Name {
    #[inline(always)]
    fn as_ref(&self) -> &str {
        self.0.as_str()
    }
}

impl Borrow<str> for Name {
    #[inline(always)]
    fn borrow(&self) -> &str {
        self.0.as_str()
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&str> for Name {
    fn from(s: &str) -> Name {
        Name(CompactString::from(s))
    }
}

impl From<&String> for Name {
    fn from(s: &String) -> Name {
        Name(CompactString::from(s.as_str()))
    }
}

impl From<String> for Name {
    /// Keeps a short string inline (its buffer is freed); a long one keeps
    /// its buffer.
    fn from(s: String) -> Name {
        Name(CompactString::from(s))
    }
}

impl From<Box<str>> for Name {
    fn from(s: Box<str>) -> Name {
        Name(CompactString::from(s))
    }
}

impl From<Cow<'_, str>> for Name {
    fn from(s: Cow<'_, str>) -> Name {
        match s {
            Cow::Borrowed(b) => Name::from(b),
            Cow::Owned(o) => Name::from(o),
        }
    }
}

impl From<char> for Name {
    fn from(c: char) -> Name {
        Name(CompactString::from(&*c.encode_utf8(&mut [0; 4])))
    }
}

impl From<&Name> for Name {
    fn from(s: &Name) -> Name {
        s.clone()
    }
}

impl From<Name> for String {
    fn from(n: Name) -> String {
        n.0.into_string()
    }
}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Name {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other.as_str()
    }
}

impl PartialEq<Name> for str {
    fn eq(&self, other: &Name) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<Name> for &str {
    fn eq(&self, other: &Name) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<Name> for String {
    fn eq(&self, other: &Name) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Serialize for Name {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Name {
    /// Reads a string; a name of up to [`Name::INLINE`] bytes is kept
    /// inline, without an allocation.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Name, D::Error> {
        CompactString::deserialize(d).map(Name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::collections::hash_map::DefaultHasher;
    use std::hash::{Hash, Hasher};

    fn hash_of<T: Hash + ?Sized>(t: &T) -> u64 {
        let mut h = DefaultHasher::new();
        t.hash(&mut h);
        h.finish()
    }

    #[test]
    fn inline_up_to_a_strings_size_and_reads_back() {
        for n in 0..=40 {
            let s: String = "abcdefghijklmnopqrstuvwxyz0123456789éè"
                .chars()
                .take(n)
                .collect();
            for name in [
                Name::from(s.as_str()),
                Name::from(s.clone()),
                Name::from(s.clone().into_boxed_str()),
            ] {
                assert_eq!(name.as_str(), s);
                assert_eq!(&*name, s.as_str());
                assert_eq!(name.is_inline(), s.len() <= Name::INLINE, "{s:?}");
                assert_eq!(String::from(name.clone()), s);
                assert_eq!(name.to_string(), s);
                assert_eq!(format!("{name:?}"), format!("{s:?}"));
            }
        }
    }

    #[test]
    fn compares_orders_and_hashes_as_its_string() {
        let words = ["", "a", "ab", "b", "email", "paid_search", "Ω", "zz"];
        for a in words {
            for b in words {
                let (na, nb) = (Name::from(a), Name::from(b));
                assert_eq!(na == nb, a == b);
                assert_eq!(na.cmp(&nb), a.cmp(b), "{a} {b}");
                assert_eq!(na == b, a == b);
                assert_eq!(a == nb, a == b);
            }
            assert_eq!(hash_of(&Name::from(a)), hash_of(a));
        }
        // a map keyed by names is looked up by &str (Borrow)
        let mut m = HashMap::new();
        m.insert(Name::from("email"), 1);
        assert_eq!(m.get("email"), Some(&1));
        assert_eq!(m.get("display"), None);
    }

    #[test]
    fn built_from_cow_and_char() {
        let lossy = String::from_utf8_lossy(b"paid_\xFFsearch");
        assert_eq!(Name::from(lossy), "paid_\u{FFFD}search");
        assert_eq!(Name::from(Cow::Borrowed("email")), "email");
        assert_eq!(Name::from('é'), "é");
    }

    #[test]
    fn takes_the_room_of_a_string() {
        // what makes the inline names free: a name, and an absent one, take
        // the 24 bytes a `String` took, so `SimpleTouch` did not grow
        assert_eq!(std::mem::size_of::<Name>(), std::mem::size_of::<String>());
        assert_eq!(
            std::mem::size_of::<Option<Name>>(),
            std::mem::size_of::<Name>()
        );
        #[cfg(target_pointer_width = "64")]
        assert_eq!(std::mem::size_of::<crate::SimpleTouch>(), 104);
    }

    proptest::proptest! {
        /// Any string reads back, compares and orders as itself, and
        /// survives JSON, inline or not.
        #[test]
        fn any_string_round_trips(a in "\\PC{0,40}", b in "\\PC{0,40}") {
            let (na, nb) = (Name::from(a.as_str()), Name::from(b.clone()));
            proptest::prop_assert_eq!(na.as_str(), a.as_str());
            proptest::prop_assert_eq!(na.is_inline(), a.len() <= Name::INLINE);
            proptest::prop_assert_eq!(na.cmp(&nb), a.cmp(&b));
            proptest::prop_assert_eq!(na == nb, a == b);
            let back: Name = serde_json::from_str(&serde_json::to_string(&na).unwrap()).unwrap();
            proptest::prop_assert_eq!(back, na);
        }
    }

    #[test]
    fn serializes_as_a_plain_string() {
        let short = Name::from("webinar");
        let long = Name::from("a campaign name well past twenty-four bytes");
        assert_eq!(serde_json::to_string(&short).unwrap(), "\"webinar\"");
        for n in [short, long] {
            let json = serde_json::to_string(&n).unwrap();
            let back: Name = serde_json::from_str(&json).unwrap();
            assert_eq!(back, n);
            assert_eq!(back.is_inline(), n.len() <= Name::INLINE);
        }
        // escapes are read (the string is not borrowed from the input)
        let escaped: Name = serde_json::from_str("\"pa\\u0069d\"").unwrap();
        assert_eq!(escaped, "paid");
        assert!(serde_json::from_str::<Name>("3").is_err());
    }
}
