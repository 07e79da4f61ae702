//! Rule-by-rule tests of [`super::clean`]: input wikitext → expected text, and adversarial
//! inputs that must stay linear and never panic.

use std::time::{Duration, Instant};

use super::super::SiteInfo;
use super::clean;

fn c(wikitext: &str) -> String {
    let mut out = String::new();
    clean(wikitext, &SiteInfo::default_english(), &mut out);
    out
}

fn c_site(wikitext: &str, site: &SiteInfo) -> String {
    let mut out = String::new();
    clean(wikitext, site, &mut out);
    out
}

#[test]
fn templates_are_removed() {
    assert_eq!(c("a {{cite web|url=x|title=y}} b"), "a b\n");
    assert_eq!(c("a{{foo|{{bar|x=1}}|y=[[z]]}}b"), "ab\n");
    assert_eq!(
        c("{{Infobox person\n| name = X\n| born = {{birth date|1900|1|1}}\n}}\nText."),
        "Text.\n"
    );
    assert_eq!(c("word{{citation needed|date=May 2010}}."), "word.\n");
    assert_eq!(c("x {{#if: a | b | c }} y"), "x y\n");
    assert_eq!(c("x {{{param|default}}} y"), "x y\n");
}

#[test]
fn convert_is_rendered() {
    assert_eq!(
        c("a distance of {{convert|5|km|mi}} away"),
        "a distance of 5 km away\n"
    );
    assert_eq!(c("{{convert|5|to|10|km}}"), "5 to 10 km\n");
    assert_eq!(c("{{convert|5|-|10|km|abbr=on}}"), "5–10 km\n");
    assert_eq!(c("{{cvt|300|km2|sqmi}}"), "300 km²\n");
    assert_eq!(c("{{Convert|20|C|F}}"), "20 °C\n");
}

#[test]
fn language_templates_keep_text() {
    assert_eq!(c("the {{lang|fr|texte}} here"), "the texte here\n");
    assert_eq!(c("{{lang-ru|слово}}"), "слово\n");
    assert_eq!(c("{{lang|grc|ἀναρχία}}"), "ἀναρχία\n");
    assert_eq!(c("{{lang-ar|{{big|المعلم}}}}"), "المعلم\n");
    assert_eq!(c("{{transl|ru|ALA|slovo}}"), "slovo\n");
    assert_eq!(c("{{script|Copt|Ⲁ ⲁ}}"), "Ⲁ ⲁ\n");
    assert_eq!(c("{{LSJ|a)narxi/a|ἀναρχία|ref}}"), "ἀναρχία\n");
    assert_eq!(c("{{nihongo|Tokyo|東京|Tōkyō}}"), "Tokyo (東京, Tōkyō)\n");
}

#[test]
fn wrappers_and_pronunciation() {
    assert_eq!(c("{{nowrap|1 000 m}}"), "1 000 m\n");
    assert_eq!(c("{{small|(1832 – 1835)}}"), "(1832 – 1835)\n");
    assert_eq!(c("{{sic|teh}} cat"), "teh cat\n");
    assert_eq!(c("say {{IPA|/ˈænərkɪzəm/}} now"), "say /ˈænərkɪzəm/ now\n");
    assert_eq!(c("say {{IPA-el|ˈanarçi|}}"), "say ˈanarçi\n");
    assert_eq!(
        c("Anarchism ({{IPAc-en|ˈ|æ|n|ər|k|ɪ|z|əm}}) is"),
        "Anarchism is\n"
    );
    assert_eq!(c("X ({{respell|AN|ər}}; Greek) y"), "X (Greek) y\n");
    assert_eq!(c("{{sc|bc}}"), "BC\n");
    assert_eq!(c("{{angbr|a}}"), "⟨a⟩\n");
    assert_eq!(c("press {{keypress|Ctrl|C}}"), "press Ctrl+C\n");
}

#[test]
fn dates_and_ages() {
    assert_eq!(c("born {{birth date|1950|3|12}}"), "born 12 March 1950\n");
    assert_eq!(c("{{Birth date|df=yes|1885|4|3}}"), "3 April 1885\n");
    assert_eq!(c("{{start date|2001|5}}"), "May 2001\n");
    assert_eq!(
        c("{{death date and age|1993|2|24|1921|5|3}}"),
        "24 February 1993 (aged 71)\n"
    );
    assert_eq!(c("{{birth date and age|1950|3|12}}"), "12 March 1950\n");
    assert_eq!(c("aged {{age|1950|3|12|2000|1|1}}"), "aged 49\n");
    assert_eq!(c("{{date|1 May 2020}}"), "1 May 2020\n");
    assert_eq!(c("{{as of|2010|lc=y}}, x"), "as of 2010, x\n");
    assert_eq!(c("{{As of|2014|5}}"), "As of May 2014\n");
    let vi = SiteInfo {
        lang: "vi".to_owned(),
        ..SiteInfo::default_english()
    };
    assert_eq!(c_site("{{birth date|1950|3|12}}", &vi), "1950-03-12\n");
}

#[test]
fn small_inline_templates() {
    assert_eq!(
        c("{{frac|1|2}} and {{frac|3|1|2}} and {{sfrac|4}}"),
        "1/2 and 3 1/2 and 1/4\n"
    );
    assert_eq!(c("rock{{'}}n{{'}}roll"), "rock'n'roll\n");
    assert_eq!(c("a{{snd}}b{{ndash}}c{{mdash}}d"), "a – b–c—d\n");
    assert_eq!(c("{{circa|1900}}"), "c. 1900\n");
    assert_eq!(c("{{US$|100}}"), "US$100\n");
    assert_eq!(c("{{formatnum:1234567}}"), "1234567\n");
    assert_eq!(c("{{hlist|a|b|c}}"), "a, b, c\n");
    assert_eq!(c("{{HMS|Ajax|22|6}}"), "HMS Ajax\n");
    assert_eq!(c("{{flag|France}}"), "France\n");
}

#[test]
fn internal_links() {
    assert_eq!(c("[[Target|label]]"), "label\n");
    assert_eq!(c("[[Target]]"), "Target\n");
    assert_eq!(c("[[Target]]s"), "Targets\n");
    assert_eq!(c("[[Foo (bar)|]]"), "Foo\n");
    assert_eq!(c("[[a|''it'' [[nested]]]]"), "it nested\n");
    assert_eq!(c("[[:Category:Foo|the category]]"), "the category\n");
}

#[test]
fn hidden_links_are_dropped() {
    assert_eq!(c("a [[File:x.jpg|thumb|A [[caption]] {{x}}]] b"), "a b\n");
    assert_eq!(c("a [[Image:x.jpg]] b"), "a b\n");
    assert_eq!(
        c("a\n[[Category:Things]]\n[[fr:Chose]]\n[[zh-yue:x]]"),
        "a\n"
    );
    assert_eq!(c("[[media:x.ogg|sound]] x"), "x\n");
    let vi = SiteInfo::parse(
        "<mediawiki xml:lang=\"vi\"><siteinfo><dbname>viwiki</dbname><namespaces>\
         <namespace key=\"6\">Tập tin</namespace><namespace key=\"14\">Thể loại</namespace>\
         </namespaces></siteinfo>",
    )
    .unwrap();
    assert_eq!(
        c_site(
            "x [[Tập tin:a.jpg|nhỏ|chú]] [[Thể loại:B]] [[File:c.png]] y",
            &vi
        ),
        "x y\n"
    );
}

#[test]
fn external_links_and_urls() {
    assert_eq!(c("see [http://x.org the site] now"), "see the site now\n");
    assert_eq!(c("see [http://x.org] now"), "see now\n");
    assert_eq!(c("see http://x.org/a?b=c now"), "see now\n");
    assert_eq!(c("[//x.org ''label'']"), "label\n");
    assert_eq!(c("[not a link]"), "[not a link]\n");
    assert_eq!(c("time: 10:30"), "time: 10:30\n");
}

#[test]
fn quotes_are_dropped() {
    assert_eq!(
        c("''it'' '''bold''' '''''both''''' l'''x'''"),
        "it bold both lx\n"
    );
    assert_eq!(c("it's ''''quoted''''"), "it's 'quoted'\n");
}

#[test]
fn headings_and_lists() {
    assert_eq!(
        c("Intro.\n== History ==\nText.\n=== Early [[life]] ===\nMore."),
        "Intro.\nHistory\nText.\nEarly life\nMore.\n"
    );
    assert_eq!(
        c("Items:\n* one\n** two\n# three\n: four\n; term"),
        "Items:\none\ntwo\nthree\nfour\nterm\n"
    );
    assert_eq!(c("a = b is not a heading"), "a = b is not a heading\n");
    assert_eq!(c("==Notes== <!-- keep -->\nx"), "Notes\nx\n");
}

#[test]
fn paragraphs_are_joined() {
    assert_eq!(
        c("line one\nline two\n\nnext para"),
        "line one line two\nnext para\n"
    );
    assert_eq!(c("a\n----\nb"), "a\nb\n");
}

#[test]
fn tables_are_dropped() {
    assert_eq!(
        c("a\n{| class=x\n| cell {{x}}\n{|\n| inner\n|}\n|}\nb"),
        "a\nb\n"
    );
    assert_eq!(c("a\n:{| class=x\n| cell\n|}\nb"), "a\nb\n");
    assert_eq!(c("{{Infobox\n| a = b\n|}}\nText"), "Text\n");
}

#[test]
fn tags() {
    assert_eq!(c("a<ref>{{cite|x}}</ref>, b<ref name=\"n\" />."), "a, b.\n");
    assert_eq!(c("a <!-- hidden {{x}} --> b"), "a b\n");
    assert_eq!(c("x <math>\\frac{{a}}{b}</math> y"), "x y\n");
    assert_eq!(c("<chem>H2O</chem> <gallery>\nA.jpg|x\n</gallery> <timeline>t</timeline> <score>s</score> z"), "z\n");
    assert_eq!(c("<templatestyles src=\"x.css\"/>a <syntaxhighlight lang=c>int x;</syntaxhighlight> <source>y</source>"), "a\n");
    assert_eq!(
        c("<nowiki>[[not a link]] {{x}}</nowiki>"),
        "[[not a link]] {{x}}\n"
    );
    assert_eq!(
        c("x<sup>2</sup> H<sub>2</sub>O <span style=\"a\">s</span><br/>t <small>u</small>"),
        "x2 H2O s t u\n"
    );
    assert_eq!(c("<div>a</div><blockquote>b</blockquote>"), "a b\n");
    assert_eq!(c("a < b and c > d"), "a < b and c > d\n");
    assert_eq!(c("__NOTOC__a __TOC__ b"), "a b\n");
}

#[test]
fn entities() {
    assert_eq!(
        c("a&nbsp;b &amp; c &quot;d&quot; &#8212; &#x41; &eacute;"),
        "a b & c \"d\" — A é\n"
    );
    assert_eq!(c("&lt;ref&gt;"), "<ref>\n");
    assert_eq!(c("a &unknown; b & c"), "a &unknown; b & c\n");
}

#[test]
fn punctuation_only_lines_are_dropped() {
    assert_eq!(c("text\n\n* {{x}}\n\n( , )\n\n—"), "text\n");
}

#[test]
fn unmatched_brackets_are_literal_text() {
    assert_eq!(c("a {{b c"), "a b c\n");
    assert_eq!(c("a [[b c"), "a b c\n");
    assert_eq!(c("a }} b ]] c"), "a b c\n");
    assert_eq!(c("{{a|b]]}}"), "");
    assert_eq!(c("a <ref>unclosed"), "a unclosed\n");
    assert_eq!(c("a <!-- unclosed"), "a\n");
}

#[test]
fn a_pipe_trick_on_a_target_with_markup_renders_it() {
    // Found by the `wikitext` fuzz target.
    assert_eq!(c("[[convert[[Category:b]]|]]"), "convert\n");
}

#[test]
fn a_convert_unit_with_markup_is_rendered() {
    // Found by the `wikitext` fuzz target.
    let out = c("{{convert\n||{{lang[[convert]]}}}}");
    assert!(!out.contains("{{") && !out.contains("[["), "{out}");
}

#[test]
fn balanced_input_leaves_no_brackets() {
    let text = "{{a|{{b|[[c|{{d}}]]}}}} [[e|{{f|g}}]] {{h|[[i]]}} [[j]] {{{k}}}";
    let out = c(text);
    assert!(
        !out.contains("{{") && !out.contains("[[") && !out.contains("]]") && !out.contains("}}"),
        "{out}"
    );
}

fn assert_fast(input: &str, max_out: usize) {
    let start = Instant::now();
    let out = c(input);
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "took {:?}",
        start.elapsed()
    );
    assert!(out.len() <= max_out, "output of {} bytes", out.len());
}

#[test]
fn adversarial_inputs_stay_linear() {
    assert_fast(&"{{".repeat(100_000), 10);
    assert_fast(&"[[".repeat(100_000), 10);
    assert_fast(&"x{{a|".repeat(100_000), 400_000);
    assert_fast(&"}}".repeat(100_000), 10);
    assert_fast(&"<ref>".repeat(100_000), 10);
    assert_fast(&"<!--".repeat(100_000), 10);
    assert_fast(&"[http://x.org ".repeat(50_000), 10);
    assert_fast(&"<span ".repeat(100_000), 700_000);
    assert_fast(&"&amp".repeat(100_000), 500_000);
    assert_fast(&"''''''''".repeat(100_000), 500_000);
    assert_fast(
        &format!("{}{}", "[[".repeat(50_000), "}}".repeat(50_000)),
        10,
    );
    assert_fast(
        &format!("{}{}", "{|\n".repeat(50_000), "|}\n".repeat(50_000)),
        10,
    );
}

#[test]
fn deep_nesting_does_not_overflow() {
    let n = 10_000;
    let deep = format!("{}x{}", "{{lang|fr|".repeat(n), "}}".repeat(n));
    assert_fast(&deep, 10);
    let deep_links = format!("{}x{}", "[[a|".repeat(n), "]]".repeat(n));
    assert_fast(&deep_links, 10);
    let shallow = format!("{}x{}", "{{lang|fr|".repeat(5), "}}".repeat(5));
    assert_eq!(c(&shallow), "x\n");
}

#[test]
fn large_page_is_fast() {
    let para = "Some '''bold''' text with a [[link|label]] and {{convert|5|km}} and a <ref>{{cite web|url=http://x}}</ref>.\n\n";
    let big = para.repeat(10_000_000 / para.len());
    let start = Instant::now();
    let out = c(&big);
    assert!(start.elapsed() < Duration::from_secs(10));
    assert!(out.starts_with("Some bold text with a label and 5 km and a.\n"));
}
