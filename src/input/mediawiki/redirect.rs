//! Redirect magic words: `#REDIRECT [[Target]]` at the start of a page's text, in English (always
//! accepted) and in the localised forms of a small table keyed by language code.

use super::SiteInfo;

/// Localised redirect words (without `#`), by language code. English `REDIRECT` is always on.
const LOCALISED: &[(&str, &[&str])] = &[
    ("bg", &["пренасочване", "виж"]),
    ("cs", &["PŘESMĚRUJ"]),
    ("de", &["WEITERLEITUNG"]),
    ("es", &["REDIRECCIÓN", "REDIRECCION"]),
    ("fa", &["تغییرمسیر", "تغییر_مسیر"]),
    ("fr", &["REDIRECTION"]),
    ("id", &["ALIH"]),
    ("it", &["RINVIA", "RINVIO", "RIMANDO"]),
    ("ja", &["転送", "リダイレクト"]),
    ("ko", &["넘겨주기"]),
    ("nl", &["DOORVERWIJZING"]),
    ("pl", &["PATRZ", "PRZEKIERUJ", "TAM"]),
    ("pt", &["REDIRECIONAMENTO", "REDIRECT"]),
    ("ru", &["перенаправление", "перенапр"]),
    ("sv", &["OMDIRIGERING"]),
    ("tr", &["YÖNLENDİRME", "YÖNLENDİR"]),
    ("uk", &["перенаправлення", "перенаправление"]),
    ("vi", &["đổi", "ĐỔI"]),
    ("zh", &["重定向"]),
];

/// True when `wikitext` starts with a redirect magic word of `site`'s language or English:
/// `#`, the word (case-insensitive), then optional spaces and `:`, then `[[`.
pub fn is_redirect_text(wikitext: &str, site: &SiteInfo) -> bool {
    let lang = site.lang.split('-').next().unwrap_or("");
    let words = LOCALISED
        .iter()
        .filter(|(l, _)| *l == lang)
        .flat_map(|(_, w)| w.iter().copied());
    std::iter::once("REDIRECT")
        .chain(words)
        .any(|w| matches_word(wikitext, w))
}

/// Like [`is_redirect_text`], accepting the words of every language in the table.
pub fn is_redirect_any_language(wikitext: &str) -> bool {
    std::iter::once("REDIRECT")
        .chain(LOCALISED.iter().flat_map(|(_, w)| w.iter().copied()))
        .any(|w| matches_word(wikitext, w))
}

fn matches_word(text: &str, word: &str) -> bool {
    let Some(rest) = text.trim_start().strip_prefix('#') else {
        return false;
    };
    let mut chars = rest.chars();
    for w in word.chars() {
        match chars.next() {
            Some(c) if c == w || c.to_lowercase().eq(w.to_lowercase()) => {}
            _ => return false,
        }
    }
    let after = chars.as_str().trim_start_matches([' ', '\t', ':', '\n']);
    after.starts_with("[[")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(lang: &str) -> SiteInfo {
        SiteInfo {
            lang: lang.to_owned(),
            ..SiteInfo::default_english()
        }
    }

    #[test]
    fn english_forms() {
        let en = site("en");
        assert!(is_redirect_text("#REDIRECT [[Foo]]", &en));
        assert!(is_redirect_text("#redirect[[Foo]]", &en));
        assert!(is_redirect_text("  #Redirect: [[Foo]]", &en));
        assert!(is_redirect_text("#REDIRECT:[[Foo]]\n{{R from move}}", &en));
        assert!(!is_redirect_text("#REDIRECTS [[Foo]]", &en));
        assert!(!is_redirect_text("Some #REDIRECT [[Foo]]", &en));
        assert!(!is_redirect_text("# list item", &en));
        assert!(!is_redirect_text("", &en));
    }

    #[test]
    fn localised_forms_by_language() {
        assert!(is_redirect_text("#đổi [[Hà Nội]]", &site("vi")));
        assert!(is_redirect_text("#ĐỔI [[Hà Nội]]", &site("vi")));
        assert!(is_redirect_text("#REDIRECT [[Hà Nội]]", &site("vi")));
        assert!(is_redirect_text("#пренасочване [[София]]", &site("bg")));
        assert!(is_redirect_text("#виж [[София]]", &site("bg")));
        assert!(is_redirect_text("#weiterleitung [[Berlin]]", &site("de")));
        assert!(is_redirect_text("#REDIRECCIÓN [[Madrid]]", &site("es")));
        assert!(is_redirect_text("#Перенаправление [[Москва]]", &site("ru")));
        assert!(is_redirect_text("#転送 [[東京]]", &site("ja")));
        assert!(is_redirect_text("#重定向 [[北京]]", &site("zh")));
        assert!(is_redirect_text("#PATRZ [[Warszawa]]", &site("pl")));
        assert!(!is_redirect_text("#đổi [[Hà Nội]]", &site("en")));
        assert!(is_redirect_any_language("#đổi [[Hà Nội]]"));
    }
}
