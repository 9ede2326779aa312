//! The typed decoder: JSON text straight into a [`Request`]'s slots, in one
//! pass, guided by the schema's [`Layout`]. Keys are compared with the few
//! names of their group, strings are read in place (an escaped one goes
//! through serde_json's scratch buffer), and no document tree or path is
//! built.
//!
//! It only ever accepts. At the first thing it would have to report (bad
//! syntax, a key given twice, a key the schema lacks, a wrong or invalid
//! value, a missing field, dates out of order) it gives up, and
//! [`Schema::decode_json`] reads the text again with the document decoder,
//! which reports exactly that, in the documented order, with its path. So
//! an error costs a second reading, and the two decoders cannot disagree on
//! what an error says. They cannot disagree on what a value is either: both
//! convert values with [`scalar`] and check dates with [`out_of_order`].

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};

use super::Request;
use super::decode::{out_of_order, request, scalar};
use super::doc::Kind;
use crate::schema::{Bits, Layout, Member, Schema};
use crate::value::Value;

/// The request `text` holds, when it is valid; `None` for anything the
/// document decoder must explain (or a schema without a layout).
pub(super) fn decode(schema: &Schema, text: &str) -> Option<Request> {
    let layout = schema.layout.as_ref()?;
    let mut slots = Slots {
        schema,
        layout,
        values: layout.defaults.clone(),
        seen: Bits::default(),
        given: Bits::default(),
    };
    let mut de = serde_json::Deserializer::from_str(text);
    GroupSeed {
        slots: &mut slots,
        group: 0,
    }
    .deserialize(&mut de)
    .ok()?;
    de.end().ok()?;
    if !slots.given.covers(&layout.required) || out_of_order(schema, &slots.values).is_some() {
        return None;
    }
    Some(request(schema, slots.values))
}

/// What has been read so far.
struct Slots<'s> {
    schema: &'s Schema,
    layout: &'s Layout,
    values: Vec<Value>,
    /// Fields and groups whose key was read: a second one is a duplicate.
    seen: Bits,
    /// Fields given a value other than `null`.
    given: Bits,
}

/// Why the typed decoder gave up: never shown, the document decoder says
/// what is wrong.
fn give_up<E: de::Error>() -> E {
    E::custom("")
}

/// An object read as the group at `group`.
struct GroupSeed<'a, 's> {
    slots: &'a mut Slots<'s>,
    group: u32,
}

impl<'de> DeserializeSeed<'de> for GroupSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for GroupSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let layout = self.slots.layout;
        let group = layout.groups.get(self.group as usize).ok_or_else(give_up)?;
        while let Some(member) = map.next_key_seed(KeySeed(&group.members))? {
            if self.slots.seen.insert(layout.bit(member)) {
                return Err(give_up());
            }
            match member {
                Member::Field(id) => map.next_value_seed(FieldSeed {
                    slots: self.slots,
                    id: id.0 as usize,
                })?,
                // `null` for a group is the same as leaving it out.
                Member::Group(group) => map.next_value_seed(NullOr(GroupSeed {
                    slots: self.slots,
                    group,
                }))?,
            }
        }
        Ok(())
    }
}

/// A key, resolved to the member of its group it names.
struct KeySeed<'l>(&'l [(Box<str>, Member)]);

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Member;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Member, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for KeySeed<'_> {
    type Value = Member;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Member, E> {
        self.0
            .iter()
            .find(|(name, _)| &**name == key)
            .map(|(_, m)| *m)
            .ok_or_else(give_up)
    }
}

/// `null`, or what the inner seed reads.
struct NullOr<S>(S);

impl<'de, S: DeserializeSeed<'de, Value = ()>> DeserializeSeed<'de> for NullOr<S> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de, S: DeserializeSeed<'de, Value = ()>> Visitor<'de> for NullOr<S> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("null or an object")
    }

    fn visit_none<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        self.0.deserialize(d)
    }
}

/// The value of the field with id `id`, stored in its slot.
struct FieldSeed<'a, 's> {
    slots: &'a mut Slots<'s>,
    id: usize,
}

impl FieldSeed<'_, '_> {
    /// A value other than `null`, converted as the document decoder does.
    fn store<E: de::Error>(self, kind: Kind<'_>) -> Result<(), E> {
        let field = self.slots.schema.fields.get(self.id).ok_or_else(give_up)?;
        let value = scalar(field, kind, String::new, String::new).map_err(|_| give_up())?;
        let slot = self.slots.values.get_mut(self.id).ok_or_else(give_up)?;
        *slot = value;
        self.slots.given.insert(self.id);
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for FieldSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl Visitor<'_> for FieldSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field's value")
    }

    /// `null`: the field keeps its default, and counts as not given.
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<(), E> {
        self.store(Kind::Bool(b))
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<(), E> {
        self.store(Kind::Int(n))
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<(), E> {
        self.store(i64::try_from(n).map_or(Kind::BigInt, Kind::Int))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.store(Kind::Float)
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<(), E> {
        self.store(Kind::Str(s))
    }
}
