//! `oneOf`/`anyOf` variants: paired by schema name, then by position, so changes inside the
//! variants that stayed are still compared when variants are added or removed.

use super::{FieldCtx, SchemaWalk};
use crate::model::{ChangeKind, Verdict};
use crate::walk::{describe, resolve};
use serde_json::Value;

/// One side of a `oneOf`/`anyOf` node: the unwrapped node, its pointer, the node as written.
type Side<'s, 'a> = (&'a Value, &'s str, &'a Value);

impl<'a> SchemaWalk<'_, 'a> {
    pub(super) fn variants(
        &mut self,
        ctx: &FieldCtx,
        key: &str,
        (ov, op, oraw): Side<'_, 'a>,
        (nv, np, nraw): Side<'_, 'a>,
    ) {
        let (od, nd) = (self.w.old, self.w.new);
        let (Some(ol), Some(nl)) = (
            ov.get(key).and_then(Value::as_array),
            nv.get(key).and_then(Value::as_array),
        ) else {
            return;
        };
        let onames: Vec<Option<String>> = ol.iter().map(|v| resolve(od, v, "").2).collect();
        let nnames: Vec<Option<String>> = nl.iter().map(|v| resolve(nd, v, "").2).collect();
        let (pairs, removed, added) = pair(&onames, &nnames);
        if !removed.is_empty() || !added.is_empty() {
            let list = |doc: &Value, l: &[Value], idx: &[usize]| {
                idx.iter()
                    .filter_map(|i| l.get(*i))
                    .map(|v| describe(doc, v))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let mut parts = Vec::new();
            if !added.is_empty() {
                parts.push(format!(
                    "new variant(s) {}: old clients fail to decode values of that shape",
                    list(nd, nl, &added)
                ));
            }
            if !removed.is_empty() {
                parts.push(format!(
                    "variant(s) {} gone: the regenerated enum loses them and code matching on them stops compiling",
                    list(od, ol, &removed)
                ));
            }
            self.push(
                Verdict::Breaking,
                ChangeKind::VariantsChanged,
                ctx,
                Some(describe(od, oraw)),
                Some(describe(nd, nraw)),
                &parts.join("; "),
                (Some(format!("{op}/{key}")), Some(format!("{np}/{key}"))),
            );
        }
        // The variants' own types: the surfaces list enum payloads by variant, not by schema.
        let inner = ctx.clone().with_rust(None, None);
        for (i, j) in pairs {
            if let (Some(o), Some(n)) = (ol.get(i), nl.get(j)) {
                self.compare(
                    &inner,
                    (o, format!("{op}/{key}/{i}")),
                    (n, format!("{np}/{key}/{j}")),
                );
            }
        }
    }
}

/// Pairs variants: the same schema name first; the rest by position when as many are left on
/// both sides, else only unnamed (inline) ones by position. Returns the pairs, the old
/// variants left (removed) and the new ones left (added).
fn pair(
    old: &[Option<String>],
    new: &[Option<String>],
) -> (Vec<(usize, usize)>, Vec<usize>, Vec<usize>) {
    let mut pairs = Vec::new();
    let mut new_used = vec![false; new.len()];
    let mut old_left = Vec::new();
    for (i, name) in old.iter().enumerate() {
        let hit = name
            .as_ref()
            .and_then(|n| (0..new.len()).find(|j| !new_used[*j] && new[*j].as_ref() == Some(n)));
        match hit {
            Some(j) => {
                new_used[j] = true;
                pairs.push((i, j));
            }
            None => old_left.push(i),
        }
    }
    let mut new_left: Vec<usize> = (0..new.len()).filter(|j| !new_used[*j]).collect();
    if old_left.len() == new_left.len() {
        pairs.extend(old_left.drain(..).zip(new_left.drain(..)));
    } else {
        let old_inline: Vec<usize> = old_left
            .iter()
            .copied()
            .filter(|i| old[*i].is_none())
            .collect();
        let new_inline: Vec<usize> = new_left
            .iter()
            .copied()
            .filter(|j| new[*j].is_none())
            .collect();
        for (i, j) in old_inline.into_iter().zip(new_inline) {
            pairs.push((i, j));
            old_left.retain(|x| *x != i);
            new_left.retain(|x| *x != j);
        }
    }
    pairs.sort_unstable();
    (pairs, old_left, new_left)
}

#[cfg(test)]
mod tests {
    use super::pair;

    fn names(list: &[&str]) -> Vec<Option<String>> {
        list.iter()
            .map(|n| (!n.is_empty()).then(|| n.to_string()))
            .collect()
    }

    #[test]
    fn pairs_by_name_then_by_position() {
        let (p, removed, added) = pair(&names(&["A", "B"]), &names(&["B", "C", "A"]));
        assert_eq!((p, removed, added), (vec![(0, 2), (1, 0)], vec![], vec![1]));
        let (p, removed, added) = pair(&names(&["A", ""]), &names(&["", "A", ""]));
        assert_eq!((p, removed, added), (vec![(0, 1), (1, 0)], vec![], vec![2]));
        let (p, removed, added) = pair(&names(&["A", "B"]), &names(&["A", "X"]));
        assert_eq!((p, removed, added), (vec![(0, 0), (1, 1)], vec![], vec![]));
    }
}
