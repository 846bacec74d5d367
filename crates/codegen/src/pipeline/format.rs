//! Stage 6: format tokens with prettyplease (no nightly rustfmt needed).

use crate::error::{Error, Result};
use proc_macro2::TokenStream;

/// Formats generated tokens as a Rust source file.
pub fn format(tokens: TokenStream) -> Result<String> {
    Ok(unparse(&parse(tokens)?))
}

/// Parses generated tokens as a Rust file (for the stages that edit the syntax tree).
pub fn parse(tokens: TokenStream) -> Result<syn::File> {
    syn::parse2(tokens).map_err(|e| Error::Format(e.to_string()))
}

/// Formats a syntax tree as source text.
pub fn unparse(file: &syn::File) -> String {
    prettyplease::unparse(file)
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
