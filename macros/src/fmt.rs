//! Types as users write them, for messages: `Bag<Event>`, `&mut Value<u32>`, `(String, u64)`.

use proc_macro2::{Delimiter, Spacing, TokenStream, TokenTree};
use quote::ToTokens;

/// `tokens` printed the way rustfmt would print a type.
pub(crate) fn type_string(tokens: &impl ToTokens) -> String {
    let mut out = String::new();
    write(&mut out, tokens.to_token_stream());
    out.replace("->", " -> ").replace("  ", " ")
}

fn write(out: &mut String, tokens: TokenStream) {
    // Whether the previous token was a word (ident or literal), so that two words need a space.
    let mut after_word = false;
    let mut joint = false;
    for tt in tokens {
        match tt {
            TokenTree::Ident(i) => {
                if after_word {
                    out.push(' ');
                }
                out.push_str(&i.to_string());
                after_word = true;
                joint = false;
            }
            TokenTree::Literal(l) => {
                if after_word {
                    out.push(' ');
                }
                out.push_str(&l.to_string());
                after_word = true;
                joint = false;
            }
            TokenTree::Punct(p) => {
                let c = p.as_char();
                match c {
                    ',' | ';' => {
                        out.push(c);
                        out.push(' ');
                    }
                    '=' | '+' if !joint => {
                        out.push(' ');
                        out.push(c);
                        out.push(' ');
                    }
                    _ => out.push(c),
                }
                // `'a` is a joint apostrophe followed by a word: no space between.
                after_word = false;
                joint = p.spacing() == Spacing::Joint;
            }
            TokenTree::Group(g) => {
                if after_word && g.delimiter() != Delimiter::Parenthesis && g.delimiter() != Delimiter::Bracket {
                    out.push(' ');
                }
                let (open, close) = match g.delimiter() {
                    Delimiter::Parenthesis => ("(", ")"),
                    Delimiter::Bracket => ("[", "]"),
                    Delimiter::Brace => ("{", "}"),
                    Delimiter::None => ("", ""),
                };
                out.push_str(open);
                write(out, g.stream());
                while out.ends_with(' ') {
                    out.pop();
                }
                out.push_str(close);
                after_word = g.delimiter() == Delimiter::None;
                joint = false;
            }
        }
    }
    while out.ends_with(' ') {
        out.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ty(s: &str) -> String {
        type_string(&syn::parse_str::<syn::Type>(s).unwrap())
    }

    #[test]
    fn prints_like_rustfmt() {
        assert_eq!(ty("Bag < Event >"), "Bag<Event>");
        assert_eq!(ty("& mut Value<u32>"), "&mut Value<u32>");
        assert_eq!(ty("(String , u64)"), "(String, u64)");
        assert_eq!(ty("Map<String, Vec<u8>>"), "Map<String, Vec<u8>>");
        assert_eq!(ty("& 'a str"), "&'a str");
        assert_eq!(ty("Box<dyn Fn(u8) -> u8 + Send>"), "Box<dyn Fn(u8) -> u8 + Send>");
        assert_eq!(ty("[u8; 4]"), "[u8; 4]");
        assert_eq!(ty("::dofn::state::Combining<Sum<i64>>"), "::dofn::state::Combining<Sum<i64>>");
    }
}
