//! Stage 6: format tokens with prettyplease (no nightly rustfmt needed).

use crate::error::{Error, Result};
use proc_macro2::TokenStream;

/// Formats generated tokens as a Rust source file.
pub fn format(tokens: TokenStream) -> Result<String> {
    let file: syn::File = syn::parse2(tokens).map_err(|e| Error::Format(e.to_string()))?;
    Ok(prettyplease::unparse(&file))
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    #[test]
    fn formats_and_is_stable() {
        let text = format(quote! { pub struct A { pub x : u8 } }).unwrap();
        assert_eq!(text, "pub struct A {\n    pub x: u8,\n}\n");
    }
}
