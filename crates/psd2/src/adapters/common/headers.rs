//! The one header helper: sets the optional headers of a raw operation builder.
//!
//! Every generated operation builder is its own type with one setter per header, so this is
//! a macro: `set_some!(builder, psu_id = id, psu_ip_address = ip)` calls each setter whose
//! value is `Some` and leaves the others out. Each adapter computes its header values once
//! per call (PSU headers, request id, opt-ins) and passes them here.

/// Calls `builder.setter(value)` for each `setter = Option<value>` that is `Some`.
macro_rules! set_some {
    ($builder:expr $(, $setter:ident = $value:expr)* $(,)?) => {{
        let builder = $builder;
        $(
            let builder = match $value {
                Some(value) => builder.$setter(value),
                None => builder,
            };
        )*
        builder
    }};
}

pub(crate) use set_some;

#[cfg(test)]
mod tests {
    #[derive(Default, Debug, PartialEq)]
    struct Builder(Vec<String>);

    impl Builder {
        fn a(mut self, v: &str) -> Self {
            self.0.push(format!("a={v}"));
            self
        }
        fn b(mut self, v: u8) -> Self {
            self.0.push(format!("b={v}"));
            self
        }
    }

    #[test]
    fn only_present_values_are_set() {
        let none: Option<u8> = None;
        let built = set_some!(Builder::default(), a = Some("x"), b = none);
        assert_eq!(built.0, ["a=x"]);
        let built = set_some!(Builder::default(), a = None::<&str>, b = Some(7));
        assert_eq!(built.0, ["b=7"]);
    }
}
