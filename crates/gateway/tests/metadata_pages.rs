//! The `/metadata` pages against Evo Voice's own pages (the seeds in `fixtures/seeds`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "metadata_dtos.rs"]
mod common;

use common::*;

/// Asserts that every non-empty line of `seed` is a whole line of the page's visible text,
/// in the seed's order.
fn assert_seed_lines_in_order(seed: &str, html: &str) {
    let page = visible_lines(html);
    let mut at = 0;
    for raw in seed.lines() {
        let want = normalise(raw);
        if want.is_empty() {
            continue;
        }
        match page[at..].iter().position(|l| *l == want) {
            Some(i) => at += i + 1,
            None => {
                let context = page[at.saturating_sub(3)..(at + 8).min(page.len())].join("\n");
                panic!(
                    "seed line {want:?} not found (in order) in the page; page text from there:\n{context}"
                );
            }
        }
    }
}

#[test]
fn jsv_dart_pages_contain_every_seed_line() {
    for op in ["NewBillable", "ListUsageRecords"] {
        let seed = seed_for(op);
        let res = get("/jsv/metadata", &format!("op={op}&lang=dart"));
        assert_eq!(res.status, 200);
        assert_eq!(res.content_type, "text/html; charset=utf-8");
        assert_seed_lines_in_order(&seed, &res.body);
    }
}

#[test]
fn page_dart_source_matches_the_seed_exactly() {
    for op in ["NewBillable", "ListUsageRecords"] {
        let seed = seed_for(op);
        let block = seed_block(
            &seed,
            "import 'package:servicestack/servicestack.dart';",
            "});",
        );
        let res = get("/jsv/metadata", &format!("op={op}&lang=dart"));
        let start = res.body.find("<code").unwrap();
        let open_end = start + res.body[start..].find('>').unwrap() + 1;
        let close = res.body[open_end..].find("</code>").unwrap();
        let code = decode_entities(&res.body[open_end..open_end + close]);
        assert_eq!(code.trim_end(), block, "{op}");
    }
}

#[test]
fn seed_sample_bodies_are_exact() {
    // The tab-indented JSV samples, byte for byte.
    let body = |seed: &str| {
        let marker = "Content-Length: length\n\n";
        seed[seed.rfind(marker).unwrap() + marker.len()..]
            .trim_end()
            .to_string()
    };
    let seed = seed_for("NewBillable");
    let want = body(&seed);
    let res = get("/jsv/metadata", "op=NewBillable");
    assert!(
        decode_entities(&res.body).contains(&format!("\n\n{want}</pre>")),
        "{}",
        res.body
    );

    let seed = seed_for("ListUsageRecords");
    let want = body(&seed);
    let res = get("/jsv/metadata", "op=ListUsageRecords");
    assert!(
        decode_entities(&res.body).contains(&format!("\n\n{want}</pre>")),
        "{}",
        res.body
    );
}

#[test]
fn checklist_63_index() {
    let res = get("/metadata", "");
    assert_eq!(res.status, 200);
    assert_eq!(res.content_type, "text/html; charset=utf-8");
    for needle in [
        "NewBillable",
        "ListUsageRecords",
        "Report/create a new billable",
        "/json/metadata?op=NewBillable",
        "/xml/metadata?op=ListUsageRecords",
        "/jsv/metadata?op=NewBillable",
        "/csv/metadata?op=NewBillable",
        "/types/dart",
        "/types/csharp",
        "/types/typescript",
        "/types/python",
    ] {
        assert!(res.body.contains(needle), "{needle}");
    }
    assert!(
        !res.body.contains("http://") && !res.body.contains("https://"),
        "nothing fetched from elsewhere"
    );
    assert!(!res.body.contains("<script"), "works without script");
    assert_eq!(get("/metadata/", "").body, res.body);
    assert_eq!(get("/json/metadata", "").body, res.body);
}

#[test]
fn checklist_64_new_billable_jsv_page() {
    let res = get("/jsv/metadata", "op=NewBillable");
    assert_eq!(res.status, 200);
    assert_eq!(res.content_type, "text/html; charset=utf-8");
    for needle in [
        "Requires Authentication",
        "<th>POST</th>",
        "<th>/billables</th>",
        "Accept: text/jsv",
        "Content-Type: text/jsv",
        "accountId: String",
        "the <b>.jsv</b> suffix or",
        "<b>?format=jsv</b>",
        "POST /billables HTTP/1.1 \nHost: evovoice.io \n",
    ] {
        assert!(res.body.contains(needle), "{needle}\n{}", res.body);
    }
    assert!(
        !res.body.contains("HTTP/1.1 200 OK"),
        "void operations show no response sample"
    );
    assert!(!res.body.contains("Requires any of the roles"));
    // Without ?lang= the page shows the Parameters table (decision 25).
    let text = visible_lines(&res.body);
    assert!(
        text.contains(&"NewBillable Parameters:".to_string()),
        "{text:#?}"
    );
    assert!(text.contains(&"NameParameterData TypeRequiredDescription".to_string()));
    assert!(
        text.contains(
            &"AccountIdbodystringNoThe account to associate the billable with".to_string()
        )
    );
}

#[test]
fn checklist_65_list_usage_records_jsv_page() {
    let res = get("/jsv/metadata", "op=ListUsageRecords");
    for needle in [
        "Requires any of the roles:",
        "SystemAdministrator, Manager",
        "<th>GET</th>",
        "/billing/usage",
    ] {
        assert!(res.body.contains(needle), "{needle}");
    }
    let text = visible_lines(&res.body);
    for line in [
        "Requires Authentication",
        "Requires any of the roles:SystemAdministrator, Manager",
        "GET/billing/usage",
        "ListUsageRecords Parameters:",
        "AccountIdquerystringNoThe account ID you are listing for",
        "StartDatequerystringNoThe start date to retrieve usage records for (YYYY-MM-DD)",
        "GET /billing/usage HTTP/1.1",
        "Host: evovoice.io",
        "Accept: text/jsv",
        "HTTP/1.1 200 OK",
    ] {
        assert!(text.contains(&line.to_string()), "{line}\n{text:#?}");
    }
    assert!(
        !res.body
            .contains("Content-Type: text/jsv\nContent-Length: <span"),
        "GET has no request body"
    );
}

#[test]
fn checklist_66_json_page_sample_is_compact_camel_case_json() {
    let res = get("/json/metadata", "op=NewBillable");
    assert!(
        res.body
            .contains("{&quot;accountId&quot;:&quot;String&quot;"),
        "{}",
        res.body
    );
    let text = decode_entities(&res.body);
    assert!(
        text.contains(r#"{"accountId":"String","customerId":"String","sessionId":"String","callSid":"String"}"#),
        "{text}"
    );
    assert!(text.contains("Accept: application/json"));
    assert!(visible_lines(&res.body).contains(
        &"To embed the response in a jsonp callback, append ?callback=myCallback".to_string()
    ));
    let res = get("/json/metadata", "op=ListUsageRecords");
    let text = decode_entities(&res.body);
    assert!(text.contains(
        r#"[{"accountSid":"String","category":"String","count":0,"countUnit":"String","description":"String","endDate":"String","price":0,"priceUnit":"String","startDate":"String","usage":"String","usageUnit":"String","uri":"String"}]"#
    ), "{text}");
}

#[test]
fn xml_and_csv_pages_render() {
    for fmt in ["xml", "csv"] {
        for op in ["NewBillable", "ListUsageRecords"] {
            let res = get(&format!("/{fmt}/metadata"), &format!("op={op}"));
            assert_eq!(res.status, 200);
            let upper = fmt.to_uppercase();
            assert!(res.body.contains(&format!("HTTP + {upper}")), "{fmt} {op}");
            assert!(
                res.body
                    .contains(&format!("the <b>.{fmt}</b> suffix or <b>?format={fmt}</b>"))
            );
        }
    }
    let res = get("/xml/metadata", "op=NewBillable");
    assert!(res.body.contains("Accept: application/xml"));
    let res = get("/csv/metadata", "op=ListUsageRecords");
    assert!(res.body.contains("Accept: text/csv"));
}

#[test]
fn xml_samples_come_from_the_xml_writer() {
    let res = get("/xml/metadata", "op=ListUsageRecords");
    let text = decode_entities(&res.body);
    assert!(text.contains("<ArrayOfUsageRecordInfo"), "{text}");
    assert!(
        text.contains("http://schemas.datacontract.org/2004/07/Voice.Api.Dashboard"),
        "{text}"
    );
    assert!(text.contains("<AccountSid>String</AccountSid>"), "{text}");
    assert!(text.contains("<Count>0</Count>"), "{text}");
    let res = get("/xml/metadata", "op=NewBillable");
    let text = decode_entities(&res.body);
    assert!(text.contains("<NewBillable"), "{text}");
    assert!(text.contains("<AccountId>String</AccountId>"), "{text}");
}

#[test]
fn csv_samples_come_from_the_csv_writer() {
    let res = get("/csv/metadata", "op=ListUsageRecords");
    let text = decode_entities(&res.body);
    assert!(
        text.contains("AccountSid,Category,Count,CountUnit,Description,EndDate,Price,PriceUnit,StartDate,Usage,UsageUnit,Uri"),
        "{text}"
    );
}

#[test]
fn other_languages_render_on_the_page() {
    for (lang, needle) in [
        ("csharp", "public partial class NewBillable"),
        ("typescript", "export class NewBillable implements IPost"),
        ("python", "class NewBillable(IPost):"),
        ("dart", "class NewBillable implements IPost, IConvertible"),
    ] {
        let res = get("/jsv/metadata", &format!("op=NewBillable&lang={lang}"));
        assert_eq!(res.status, 200);
        assert!(decode_entities(&res.body).contains(needle), "{lang}");
        assert!(
            res.body
                .contains(&format!("/types/{lang}?IncludeTypes=NewBillable.*")),
            "{lang}"
        );
    }
}

#[test]
fn unknown_op_is_a_404_page() {
    let res = get("/jsv/metadata", "op=NoSuchOp");
    assert_eq!(res.status, 404);
    assert_eq!(res.content_type, "text/html; charset=utf-8");
    assert!(res.body.contains("NoSuchOp"));
    let res = get("/json/metadata", "op=%3Cscript%3Ealert(1)%3C%2Fscript%3E");
    assert_eq!(res.status, 404);
    assert!(!res.body.contains("<script>alert"), "escaped");
    // A DTO that is not an operation has no page either.
    let res = get("/json/metadata", "op=UsageRecordInfo");
    assert_eq!(res.status, 404);
}

#[test]
fn operation_names_match_case_insensitively() {
    let res = get("/jsv/metadata", "op=newbillable");
    assert_eq!(res.status, 200);
    assert!(res.body.contains("<h2>NewBillable</h2>"));
}

#[test]
fn paths_that_are_not_metadata_are_left_alone() {
    let r = seed_registry();
    for path in [
        "/",
        "/metadatax",
        "/html/metadata",
        "/json/reply/NewBillable",
        "/api/NewBillable",
        "/types/x/y",
        "/apis",
    ] {
        assert!(get_with(&r, path, "").is_none(), "{path}");
    }
    assert!(get_with(&r, "/api", "").is_some());
    assert!(get_with(&r, "/api/", "").is_none(), "exactly /api");
    // Metadata paths ignore case.
    assert_eq!(
        get_with(&r, "/JSV/Metadata", "op=NewBillable")
            .unwrap()
            .status,
        200
    );
    assert_eq!(get_with(&r, "/Types/Dart", "").unwrap().status, 200);
}

#[test]
fn odd_input_never_panics() {
    let r = full_registry();
    let queries = [
        "",
        "op",
        "op=",
        "op=%",
        "op=%ZZ&lang=%",
        "op=NewBillable&lang=",
        "op=NewBillable&lang=klingon",
        "op=UpdateExtra&lang=dart",
        "op=UpdateExtra&lang=python",
        "op=UpdateExtra&lang=typescript",
        "op=UpdateExtra&lang=csharp",
        "op=UpdateExtra",
        "&&&==&op=ListUsageRecords&op=NewBillable",
        "IncludeTypes=&ExcludeTypes=,,,&GlobalNamespace=%0A*/&DefaultImports=[",
        "IncludeTypes=Nope.*,UpdateExtra.*,Extra&AddResponseStatus=true&AddImplicitVersion=2&MakePropertiesOptional=yes",
    ];
    for path in [
        "/metadata",
        "/json/metadata",
        "/xml/metadata",
        "/jsv/metadata",
        "/csv/metadata",
        "/types",
        "/types/metadata",
        "/types/csharp",
        "/types/dart",
        "/types/typescript",
        "/types/python",
        "/types/cobol",
        "/api",
    ] {
        for q in queries {
            let res = get_with(&r, path, q).unwrap_or_else(|| panic!("{path}?{q}"));
            assert!(res.status == 200 || res.status == 404, "{path}?{q}");
        }
    }
}

#[test]
fn extra_operation_page_shows_path_parameters_and_all_routes() {
    let r = full_registry();
    let res = get_with(&r, "/json/metadata", "op=UpdateExtra").unwrap();
    let text = visible_lines(&res.body);
    for line in [
        "Updates an extra \"thing\", line one.",
        "Line two.",
        "PUT, PATCH/extras/{id}",
        "All Verbs/extras",
        "Idpathlong No The id",
    ] {
        let line = normalise(line);
        let found = text
            .iter()
            .any(|l| *l == line || l.replace(' ', "") == line.replace(' ', ""));
        assert!(found, "{line}\n{text:#?}");
    }
    // The first route taking POST (any verb) is the sample request.
    assert!(res.body.contains("POST /extras HTTP/1.1"), "{}", res.body);
    assert!(res.body.contains("HTTP/1.1 200 OK"));
}
