//! `/types/*` generators, `/types/metadata` and `/api`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "metadata_dtos.rs"]
mod common;

use common::*;

fn types(lang: &str, query: &str) -> String {
    let res = get(&format!("/types/{lang}"), query);
    assert_eq!(res.status, 200, "{lang}?{query}");
    assert_eq!(res.content_type, "text/plain; charset=utf-8");
    res.body
}

fn header_lines(body: &str) -> Vec<&str> {
    let end = body
        .find("*/")
        .or_else(|| body[3..].find("\"\"\"").map(|i| i + 3))
        .unwrap();
    body[..end].lines().collect()
}

#[test]
fn dart_contains_the_seed_classes_exactly() {
    let body = types("dart", "");
    for op in ["NewBillable", "ListUsageRecords"] {
        let seed = seed_for(op);
        let class = seed_block(&seed, "/**", "}");
        assert!(
            body.contains(&format!("\n{class}\n")),
            "{op} class differs:\n{class}\n---\n{body}"
        );
        assert!(body.contains(&format!(
            "    '{op}': TypeInfo(TypeOf.Class, create:() => {op}()),\n"
        )));
    }
    assert!(body.contains("import 'package:servicestack/servicestack.dart';\n"));
    assert!(body.contains(
        "TypeContext _ctx = TypeContext(library: 'evovoice.io', types: <String, TypeInfo> {\n"
    ));
    assert!(body.contains("class UsageRecordInfo implements IConvertible\n"));
    assert!(body.contains(
        "    'UsageRecordInfo': TypeInfo(TypeOf.Class, create:() => UsageRecordInfo()),\n"
    ));
    assert!(body.contains("        price = JsonConverters.toDouble(json['price']);\n"));
    assert!(body.trim_end().ends_with("});"));
}

#[test]
fn checklist_67_dart_header() {
    let body = types("dart", "");
    assert!(body.starts_with("/* Options:\n"));
    let header = header_lines(&body);
    assert!(header.iter().any(|l| l.starts_with("Date: ")));
    assert!(header.contains(&"Version: 8.52"));
    assert!(
        header.contains(&"Tip: To override a DTO option, remove \"//\" prefix before updating")
    );
    assert!(header.contains(&"BaseUrl: https://evovoice.io"));
    for line in [
        "//GlobalNamespace: ",
        "//AddServiceStackTypes: True",
        "//AddResponseStatus: False",
        "//AddImplicitVersion: ",
        "//AddDescriptionAsComments: True",
        "//IncludeTypes: ",
        "//ExcludeTypes: ",
        "//DefaultImports: package:servicestack/servicestack.dart",
    ] {
        assert!(header.contains(&line), "{line}\n{header:#?}");
    }
    let class_line = |name: &str| {
        body.lines()
            .find(|l| l.starts_with(&format!("class {name} implements")))
            .unwrap_or_else(|| panic!("{name}"))
    };
    assert!(class_line("NewBillable").contains("IPost"));
    assert!(class_line("ListUsageRecords").contains("IGet"));
}

#[test]
fn checklist_68_include_types_with_dependents() {
    let body = types("dart", "IncludeTypes=NewBillable.*");
    let header = header_lines(&body);
    assert!(
        header.contains(&"IncludeTypes: NewBillable.*"),
        "{header:#?}"
    );
    assert!(!header.contains(&"//IncludeTypes: NewBillable.*"));
    assert!(body.contains("class NewBillable implements"));
    assert!(!body.contains("class ListUsageRecords"));
    assert!(!body.contains("class UsageRecordInfo"));

    // The op's dependent types come along; other ops do not.
    let body = types("typescript", "IncludeTypes=ListUsageRecords.*");
    assert!(body.contains("export class ListUsageRecords implements IGet"));
    assert!(body.contains("export class UsageRecordInfo"));
    assert!(!body.contains("NewBillable"));

    // A plain name is that type only; ExcludeTypes removes.
    let body = types("csharp", "IncludeTypes=UsageRecordInfo");
    assert!(body.contains("public partial class UsageRecordInfo"));
    assert!(!body.contains("class ListUsageRecords"));
    let body = types("python", "ExcludeTypes=NewBillable");
    assert!(!body.contains("class NewBillable"));
    assert!(body.contains("class ListUsageRecords(IGet):"));
    assert!(body.contains("\nExcludeTypes: NewBillable\n"));
    // JSV-style lists are accepted.
    let body = types("dart", "IncludeTypes=[NewBillable,UsageRecordInfo]");
    assert!(
        body.contains("class NewBillable implements")
            && body.contains("class UsageRecordInfo implements")
    );
    assert!(!body.contains("class ListUsageRecords"));
}

#[test]
fn checklist_69_csharp() {
    let body = types("csharp", "");
    let header = header_lines(&body);
    for line in [
        "//GlobalNamespace: ",
        "//MakePartial: True",
        "//MakeVirtual: True",
        "//MakeInternal: False",
        "//MakeDataContractsExtensible: False",
        "//AddNullableAnnotations: False",
        "//AddReturnMarker: True",
        "//AddDescriptionAsComments: True",
        "//AddDataContractAttributes: False",
        "//AddIndexesToDataMembers: False",
        "//AddGeneratedCodeAttributes: False",
        "//AddResponseStatus: False",
        "//AddImplicitVersion: ",
        "//InitializeCollections: True",
        "//ExportValueTypes: False",
        "//IncludeTypes: ",
        "//ExcludeTypes: ",
        "//AddNamespaces: ",
        "//AddDefaultXmlNamespace: http://schemas.servicestack.net/types",
    ] {
        assert!(header.contains(&line), "{line}");
    }
    assert!(body.contains("[Route(\"/billables\", \"POST\")]"));
    assert!(body.contains("[Route(\"/billing/usage\", \"GET\")]"));
    let expected = r#"namespace Voice.Api.Billing
{
    ///<summary>
    ///Report/create a new billable
    ///</summary>
    [Route("/billables", "POST")]
    [Api(Description="Report/create a new billable")]
    public partial class NewBillable
        : IPost
    {
        ///<summary>
        ///The account to associate the billable with
        ///</summary>
        [ApiMember(Description="The account to associate the billable with")]
        public virtual string AccountId { get; set; }
"#;
    assert!(body.contains(expected), "{body}");
    assert!(body.contains("    public partial class ListUsageRecords\n        : IGet\n    {\n"));
    assert!(body.contains("        public virtual long Count { get; set; }\n"));
    assert!(body.contains("        public virtual decimal Price { get; set; }\n"));
    assert!(body.contains("using Voice.Api.Dashboard;\n"));

    let body = types(
        "csharp",
        "MakePartial=false&MakeVirtual=False&AddDataContractAttributes=true&AddIndexesToDataMembers=true",
    );
    let header = header_lines(&body);
    assert!(header.contains(&"MakePartial: False") && header.contains(&"MakeVirtual: False"));
    assert!(body.contains("    public class NewBillable\n"));
    assert!(body.contains("        public string AccountId { get; set; }\n"));
    assert!(
        body.contains("    [DataContract]\n") && body.contains("        [DataMember(Order=1)]\n")
    );
}

#[test]
fn csharp_with_return_markers_and_collections() {
    let r = full_registry();
    let body = get_with(&r, "/types/csharp", "").unwrap().body;
    assert!(
        body.contains("    public partial class UpdateExtra\n        : IReturn<Extra>\n    {\n"),
        "{body}"
    );
    assert!(body.contains("        public UpdateExtra()\n        {\n            Extras = new List<Extra>{};\n        }\n"));
    assert!(body.contains("[Route(\"/extras/{id}\", \"PUT,PATCH\")]\n    [Route(\"/extras\")]\n"));
    assert!(body.contains("        [ApiMember(Description=\"A count\", IsRequired=true)]\n        public virtual int Total { get; set; }\n"));
    assert!(body.contains("public virtual Dictionary<string, double> Values { get; set; }"));
    assert!(body.contains("public virtual UsageRecordInfo Record { get; set; }"));
    let body = get_with(
        &r,
        "/types/csharp",
        "GlobalNamespace=Evo.Dtos&AddNullableAnnotations=true",
    )
    .unwrap()
    .body;
    assert!(body.contains("\nnamespace Evo.Dtos\n{\n"));
    assert_eq!(body.matches("\nnamespace ").count(), 1);
    assert!(body.contains("public virtual string? AccountId { get; set; }"));
}

#[test]
fn checklist_70_typescript_and_python_headers() {
    let ts = types("typescript", "");
    assert!(ts.starts_with("/* Options:\n"));
    let header = header_lines(&ts);
    for line in [
        "//MakePropertiesOptional: False",
        "//AddServiceStackTypes: True",
        "//DefaultImports: ",
    ] {
        assert!(header.contains(&line), "{line}");
    }
    let py = types("python", "");
    assert!(py.starts_with("\"\"\" Options:\n"));
    let header = header_lines(&py);
    assert!(header.contains(&"Tip: To override a DTO option, remove \"#\" prefix before updating"));
    assert!(header.contains(&"BaseUrl: https://evovoice.io"));
    assert!(header.contains(&"#AddDescriptionAsComments: True"));
    assert!(header.contains(&"#IncludeTypes: "));
    assert!(header.iter().any(|l| l.starts_with("#DataClassJson: ")));
}

#[test]
fn typescript_classes_work_with_the_json_service_client() {
    let ts = types("typescript", "");
    let expected = r#"/**
* Report/create a new billable
*/
// @Route("/billables", "POST")
// @Api(Description="Report/create a new billable")
export class NewBillable implements IPost
{
    /**
    * The account to associate the billable with
    */
    // @ApiMember(Description="The account to associate the billable with")
    public accountId?: string;
"#;
    assert!(ts.contains(expected), "{ts}");
    for needle in [
        "    public constructor(init?: Partial<NewBillable>) { (Object as any).assign(this, init); }\n    public getTypeName() { return 'NewBillable'; }\n    public getMethod() { return 'POST'; }\n    public createResponse() {}\n}\n",
        "export class ListUsageRecords implements IGet\n",
        "    public getTypeName() { return 'ListUsageRecords'; }\n    public getMethod() { return 'GET'; }\n    public createResponse() { return new Array<UsageRecordInfo>(); }\n",
        "export interface IGet\n{\n}\n",
        "export interface IPost\n{\n}\n",
        "    public count?: number;\n",
    ] {
        assert!(ts.contains(needle), "{needle}\n---\n{ts}");
    }
    let r = full_registry();
    let ts = get_with(&r, "/types/typescript", "").unwrap().body;
    assert!(
        ts.contains("export class UpdateExtra implements IReturn<Extra>\n"),
        "{ts}"
    );
    assert!(ts.contains("    public createResponse() { return new Extra(); }\n"));
    assert!(ts.contains("export interface IReturn<T>\n{\n    createResponse(): T;\n}\n"));
    assert!(ts.contains("    public total: number = 0;\n"));
    assert!(ts.contains("    public values?: { [index:string]: number; };\n"));
    let ts = get_with(
        &r,
        "/types/typescript",
        "MakePropertiesOptional=true&GlobalNamespace=dtos",
    )
    .unwrap()
    .body;
    assert!(ts.contains("    public total?: number;\n"));
    assert!(ts.contains("\nexport namespace dtos\n{\n"));
}

#[test]
fn python_dataclasses() {
    let py = types("python", "");
    let expected = r#"# @Route("/billing/usage", "GET")
# @Api(Description="Gets all usage records for specified date range")
@dataclass_json(letter_case=LetterCase.CAMEL, undefined=Undefined.EXCLUDE)
@dataclass
class ListUsageRecords(IGet):
    """
    Gets all usage records for specified date range
    """

    # @ApiMember(Description="The account ID you are listing for")
    account_id: Optional[str] = None
    """
    The account ID you are listing for
    """
"#;
    assert!(py.contains(expected), "{py}");
    assert!(
        py.contains("from dataclasses_json import dataclass_json, LetterCase, Undefined, config\n")
    );
    assert!(py.contains("    count: int = 0\n"));
    assert!(py.contains("    price: Decimal = decimal.Decimal(0)\n"));
    // Dependencies first: Python evaluates annotations when the class is defined.
    assert!(py.find("class UsageRecordInfo").unwrap() < py.find("class ListUsageRecords").unwrap());
    let r = full_registry();
    let py = get_with(&r, "/types/python", "").unwrap().body;
    assert!(py.contains("class UpdateExtra(IReturn[Extra]):\n"), "{py}");
    assert!(py.find("class Extra:").unwrap() < py.find("class UpdateExtra").unwrap());
    assert!(py.contains("    labels: Optional[List[str]] = None\n"));
    assert!(py.contains("    values: Optional[Dict[str, float]] = None\n"));
}

#[test]
fn options_passed_back_are_printed_uncommented_and_honoured() {
    let body = types(
        "dart",
        "AddDescriptionAsComments=false&GlobalNamespace=evo&SomethingNew=1",
    );
    let header = header_lines(&body);
    assert!(header.contains(&"AddDescriptionAsComments: False"));
    assert!(header.contains(&"GlobalNamespace: evo"));
    assert!(
        header.contains(&"SomethingNew: 1"),
        "unknown options are echoed"
    );
    assert!(body.contains("library evo;\n"));
    assert!(!body.contains("/**\n* Report/create a new billable"));
    assert!(
        body.contains("// @Api(Description=\"Report/create a new billable\")\nclass NewBillable")
    );

    let body = types(
        "typescript",
        "DefaultImports=IReturn/IGet/IPost:@servicestack/client&AddServiceStackTypes=false",
    );
    assert!(
        body.contains("import { IReturn, IGet, IPost } from \"@servicestack/client\";\n"),
        "{body}"
    );
    assert!(!body.contains("export interface IGet"));

    let body = types("dart", "WithoutOptions=true");
    assert!(!body.contains("Options:"));

    let res = get_with(&seed_registry(), "/types/cobol", "").unwrap();
    assert_eq!(res.status, 404);
}

#[test]
fn base_url_is_the_configured_one_or_the_origin() {
    use gateway::metadata::{MetadataRequest, SiteInfo, handle};
    let site = SiteInfo {
        service_name: "Evo".into(),
        base_url: Some("https://api.example.org/".into()),
        version: "8".into(),
    };
    let req = MetadataRequest {
        path: "/types/typescript",
        query: "",
        origin: "http://127.0.0.1:5000",
        host: "127.0.0.1:5000",
    };
    let body = handle(&req, &seed_registry(), &site).unwrap().body;
    assert!(body.contains("\nBaseUrl: https://api.example.org\n"));
    let body = get("/types/typescript", "").body;
    assert!(body.contains("\nBaseUrl: https://evovoice.io\n"));
}

#[test]
fn checklist_71_types_metadata() {
    let res = get("/types/metadata", "");
    assert_eq!(res.status, 200);
    assert!(res.content_type.starts_with("application/json"));
    let v: serde_json::Value = serde_json::from_str(&res.body).unwrap();
    assert!(v["config"].is_object() && v["namespaces"].is_array() && v["types"].is_array());
    let ops = v["operations"].as_array().unwrap();
    let op = |name: &str| {
        ops.iter()
            .find(|o| o["request"]["name"] == name)
            .unwrap_or_else(|| panic!("{name}"))
    };
    let nb = op("NewBillable");
    assert_eq!(nb["routes"][0]["path"], "/billables");
    assert_eq!(nb["routes"][0]["verbs"], "POST");
    assert_eq!(nb["requiresAuth"], true);
    assert_eq!(nb["returnsVoid"], true);
    assert_eq!(nb["method"], "POST");
    assert_eq!(nb["request"]["namespace"], "Voice.Api.Billing");
    assert_eq!(nb["request"]["implements"][0]["name"], "IPost");
    assert_eq!(nb["request"]["properties"][0]["name"], "AccountId");
    assert_eq!(nb["request"]["properties"][0]["type"], "String");
    assert_eq!(
        nb["request"]["properties"][0]["description"],
        "The account to associate the billable with"
    );
    let lur = op("ListUsageRecords");
    assert_eq!(lur["routes"][0]["path"], "/billing/usage");
    assert_eq!(lur["requiresAuth"], true);
    assert_eq!(
        lur["requiresAnyRole"],
        serde_json::json!(["SystemAdministrator", "Manager"])
    );
    assert_eq!(lur["returnType"]["name"], "List`1");
    assert_eq!(lur["returnType"]["genericArgs"][0], "UsageRecordInfo");
    let types = v["types"].as_array().unwrap();
    assert!(
        types
            .iter()
            .any(|t| t["name"] == "UsageRecordInfo" && t["namespace"] == "Voice.Api.Dashboard")
    );

    let v: serde_json::Value =
        serde_json::from_str(&get("/types/metadata", "IncludeTypes=NewBillable.*").body).unwrap();
    assert_eq!(v["operations"].as_array().unwrap().len(), 1);
}

#[test]
fn types_index_links_every_language() {
    let res = get("/types", "");
    let v: serde_json::Value = serde_json::from_str(&res.body).unwrap();
    for lang in ["csharp", "dart", "typescript", "python", "metadata"] {
        assert_eq!(v[lang], format!("https://evovoice.io/types/{lang}"));
    }
}

#[test]
fn checklist_73_api_index() {
    let res = get("/api", "");
    assert_eq!(res.status, 200);
    let v: serde_json::Value = serde_json::from_str(&res.body).unwrap();
    let list = v["default"].as_array().unwrap();
    let nb = list.iter().find(|o| o["name"] == "NewBillable").unwrap();
    assert_eq!(nb["links"]["api"], "/api/NewBillable");
    assert_eq!(nb["links"]["ui"], "/ui/NewBillable");
    assert_eq!(nb["description"], "Report/create a new billable");
    assert!(nb.get("returns").is_none());
    let lur = list
        .iter()
        .find(|o| o["name"] == "ListUsageRecords")
        .unwrap();
    assert_eq!(lur["returns"], "List<UsageRecordInfo>");
    let v: serde_json::Value =
        serde_json::from_str(&get_with(&full_registry(), "/api", "").unwrap().body).unwrap();
    assert_eq!(v["ops"][0]["name"], "UpdateExtra");
}

/// Writes the generated sources for the external checks (`tsc --strict`, Python imports):
/// `METADATA_DUMP=dir cargo test -p gateway --test metadata_types dump`.
#[test]
fn dump_for_external_checks() {
    let Ok(dir) = std::env::var("METADATA_DUMP") else {
        return;
    };
    std::fs::create_dir_all(&dir).unwrap();
    let r = full_registry();
    for (lang, file, q) in [
        ("typescript", "dtos.ts", ""),
        (
            "typescript",
            "opt.dtos.ts",
            "MakePropertiesOptional=true&AddResponseStatus=true&AddImplicitVersion=3",
        ),
        ("typescript", "ns.dtos.ts", "GlobalNamespace=dtos"),
        (
            "typescript",
            "one.dtos.ts",
            "IncludeTypes=ListUsageRecords.*",
        ),
        ("python", "dtos.py", ""),
        ("csharp", "dtos.cs", ""),
        ("dart", "dtos.dart", ""),
    ] {
        let body = get_with(&r, &format!("/types/{lang}"), q).unwrap().body;
        std::fs::write(format!("{dir}/{file}"), body).unwrap();
    }
    for fmt in ["json", "xml", "jsv", "csv"] {
        for op in ["NewBillable", "ListUsageRecords", "UpdateExtra"] {
            let body = get_with(&r, &format!("/{fmt}/metadata"), &format!("op={op}"))
                .unwrap()
                .body;
            std::fs::write(format!("{dir}/{fmt}-{op}.html"), body).unwrap();
        }
    }
    std::fs::write(
        format!("{dir}/index.html"),
        get_with(&r, "/metadata", "").unwrap().body,
    )
    .unwrap();
}

#[test]
fn checklist_59_72_app_metadata() {
    let res = get("/metadata/app", "");
    assert_eq!(res.status, 200);
    assert!(res.content_type.starts_with("application/json"));
    let date_at = res
        .body
        .find(r#""date":"\/Date("#)
        .expect("WCF date with escaped slashes");
    let rest = &res.body[date_at + r#""date":"\/Date("#.len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    assert!(
        !digits.is_empty() && rest[digits.len()..].starts_with(r#")\/""#),
        "{}",
        &rest[..40]
    );
    let v: serde_json::Value = serde_json::from_str(&res.body).unwrap();
    assert_eq!(v["app"]["baseUrl"], "https://evovoice.io");
    assert_eq!(v["app"]["serviceName"], "Evo Voice");
    assert_eq!(v["contentTypeFormats"]["json"], "application/json");
    assert_eq!(v["contentTypeFormats"]["jsv"], "text/jsv");
    let ops = v["api"]["operations"].as_array().unwrap();
    assert_eq!(ops.len(), 2);
    assert!(v["api"].get("config").is_none());
    assert!(get_with(&seed_registry(), "/metadata/other", "").is_none());
}

/// What `@servicestack/cli` and `get-dtos` do on update: take the text from `Options:` to `*/`
/// (or the closing `"""`), read `BaseUrl:`, and send every later line that is not commented
/// out and has a `:` back as `?Key=Value`.
fn update_query(body: &str, comment: &str) -> (String, String) {
    let start = body.find("Options:").expect("Options:");
    let mut base = None;
    let mut pairs = Vec::new();
    for line in body[start..].lines().skip(1) {
        if line.starts_with("*/") || line.starts_with("\"\"\"") {
            break;
        }
        if let Some(url) = line.strip_prefix("BaseUrl: ") {
            base = Some(url.to_string());
            continue;
        }
        if base.is_none() || line.starts_with(comment) {
            continue;
        }
        if let Some((k, v)) = line.split_once(':') {
            let enc = |s: &str| {
                s.trim()
                    .bytes()
                    .map(|b| {
                        if b.is_ascii_alphanumeric() {
                            (b as char).to_string()
                        } else {
                            format!("%{b:02X}")
                        }
                    })
                    .collect::<String>()
            };
            pairs.push(format!("{}={}", k.trim(), enc(v)));
        }
    }
    (base.expect("BaseUrl"), pairs.join("&"))
}

#[test]
fn updating_a_reference_keeps_its_options() {
    for (lang, comment, first) in [
        (
            "typescript",
            "//",
            "IncludeTypes=ListUsageRecords.*&MakePropertiesOptional=true",
        ),
        (
            "dart",
            "//",
            "IncludeTypes=NewBillable.*&AddDescriptionAsComments=false",
        ),
        (
            "csharp",
            "//",
            "ExcludeTypes=NewBillable&MakeVirtual=false&GlobalNamespace=Evo",
        ),
        (
            "python",
            "#",
            "IncludeTypes=ListUsageRecords.*&DataClass=init%3DTrue",
        ),
    ] {
        let added = types(lang, first);
        assert!(added.contains("Options:"));
        let (base, query) = update_query(&added, comment);
        assert_eq!(base, "https://evovoice.io");
        let updated = types(lang, &query);
        let strip_date = |s: &str| {
            s.lines()
                .filter(|l| !l.starts_with("Date: "))
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert_eq!(
            strip_date(&updated),
            strip_date(&added),
            "{lang}: update changed the file"
        );
    }
    // Nothing passed: an update sends nothing back.
    let (_, query) = update_query(&types("dart", ""), "//");
    assert_eq!(query, "");
}
