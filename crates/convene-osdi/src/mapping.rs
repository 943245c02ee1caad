//! Both sides into the canonical form, and the canonical form back into the OSDI members a
//! PUT sends (only the changed ones).

use crate::canonical::{Canonical, Field, Postal};
use serde_json::{Map, Value, json};
use time::format_description::well_known::Rfc3339;

/// The local person as the sync sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocalPerson {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    /// E.164.
    pub phone: Option<String>,
    /// e.g. `en_GB`.
    pub preferred_language: Option<String>,
    pub address: Option<Postal>,
    pub do_not_email: bool,
    pub is_opt_out: bool,
    pub do_not_sms: bool,
}

fn non_empty(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn status(unsubscribed: bool) -> Option<String> {
    Some(
        if unsubscribed {
            "unsubscribed"
        } else {
            "subscribed"
        }
        .to_owned(),
    )
}

/// osdi-client's rule: an address without a postal code is no address.
fn postal(p: Option<Postal>) -> Option<Postal> {
    p.filter(|p| {
        p.postal_code
            .as_deref()
            .is_some_and(|c| !c.trim().is_empty())
    })
}

pub fn local_to_canonical(p: &LocalPerson) -> Canonical {
    let phone = non_empty(p.phone.as_deref());
    Canonical {
        given_name: non_empty(p.first_name.as_deref()),
        family_name: non_empty(p.last_name.as_deref()),
        email: non_empty(p.email.as_deref()).map(|e| e.to_lowercase()),
        email_status: status(p.do_not_email || p.is_opt_out),
        phone_status: phone
            .as_ref()
            .and_then(|_| status(p.do_not_sms || p.is_opt_out)),
        phone,
        language: non_empty(p.preferred_language.as_deref())
            .map(|l| l.chars().take(2).collect::<String>().to_lowercase()),
        postal: postal(p.address.clone()),
    }
}

/// The primary entry of an OSDI list, or its first.
fn primary(list: &Value) -> Option<&Value> {
    let items = list.as_array()?;
    items
        .iter()
        .find(|i| i["primary"].as_bool() == Some(true))
        .or_else(|| items.first())
}

/// The `number_type` of a remote person's primary phone ("Mobile" when it gives none): a PUT
/// that sends the phone keeps it.
pub fn phone_type(person: &Value) -> &str {
    primary(&person["phone_numbers"])
        .and_then(|p| p["number_type"].as_str())
        .unwrap_or("Mobile")
}

/// U+2400: what Action Network is sent to clear a field (and what a blanked record holds).
pub const CLEAR: &str = "\u{2400}";

fn text(v: &Value) -> Option<String> {
    non_empty(v.as_str()).filter(|t| t != CLEAR)
}

pub fn remote_to_canonical(person: &Value) -> Canonical {
    let email = primary(&person["email_addresses"]);
    let phone = primary(&person["phone_numbers"]);
    let number = phone.and_then(|p| text(&p["number"])).map(|n| {
        let digits: String = n.chars().filter(char::is_ascii_digit).collect();
        format!("+{digits}")
    });
    let address = primary(&person["postal_addresses"]).map(|a| Postal {
        address_line: a["address_lines"].get(0).and_then(text),
        locality: text(&a["locality"]),
        region: text(&a["region"]),
        postal_code: text(&a["postal_code"]),
        country: text(&a["country"]),
    });
    Canonical {
        given_name: text(&person["given_name"]),
        family_name: text(&person["family_name"]),
        email: email
            .and_then(|e| text(&e["address"]))
            .map(|e| e.to_lowercase()),
        email_status: email.and_then(|e| text(&e["status"])),
        phone_status: number.as_ref().and(phone).and_then(|p| text(&p["status"])),
        phone: number,
        language: person["languages_spoken"].get(0).and_then(text),
        postal: postal(address),
    }
}

/// Why a remote person does not parse into the canonical form, if it does not: a member of the
/// wrong type (an email list given as a string, a `modified_date` that is no date). Such a
/// record is written nowhere; reading it leniently would make an email-less contact of it.
pub fn malformed(person: &Value) -> Option<String> {
    let Value::Object(members) = person else {
        return Some("the record is not an object".into());
    };
    let texts = ["given_name", "family_name", "modified_date", "created_date"];
    let lists = [
        ("email_addresses", &["address", "status"][..]),
        ("phone_numbers", &["number", "status", "number_type"][..]),
        (
            "postal_addresses",
            &["locality", "region", "postal_code", "country"][..],
        ),
    ];
    for (name, value) in members {
        let name = name.as_str();
        let fits = if texts.contains(&name) {
            value.is_null() || value.is_string()
        } else if let Some((_, inner)) = lists.iter().find(|(list, _)| *list == name) {
            value.as_array().is_some_and(|items| {
                items.iter().all(|item| {
                    item.as_object().is_some_and(|o| {
                        inner
                            .iter()
                            .all(|k| o.get(*k).is_none_or(|v| v.is_null() || v.is_string()))
                    }) && (name != "postal_addresses" || address_lines_fit(&item["address_lines"]))
                })
            })
        } else if matches!(name, "identifiers" | "languages_spoken") {
            value
                .as_array()
                .is_some_and(|items| items.iter().all(Value::is_string))
        } else {
            true
        };
        if !fits {
            return Some(format!("{name} has the wrong type"));
        }
    }
    match person.get("modified_date").and_then(Value::as_str) {
        Some(date) if time::OffsetDateTime::parse(date, &Rfc3339).is_err() => {
            Some(format!("modified_date {date:?} is not a date"))
        }
        _ => None,
    }
}

fn address_lines_fit(lines: &Value) -> bool {
    lines.is_null()
        || lines
            .as_array()
            .is_some_and(|l| l.iter().all(Value::is_string))
}

/// The members of a PUT that writes `fields` of `person`; never `identifiers` or dates.
pub fn remote_members(person: &Canonical, fields: &[Field]) -> Value {
    let mut out = Map::new();
    let has = |f: Field| fields.contains(&f);
    // Action Network ignores null; U+2400 is its "clear this field".
    let or_clear = |v: &Option<String>| json!(v.as_deref().unwrap_or(CLEAR));
    if has(Field::GivenName) {
        out.insert("given_name".into(), or_clear(&person.given_name));
    }
    if has(Field::FamilyName) {
        out.insert("family_name".into(), or_clear(&person.family_name));
    }
    if (has(Field::Email) || has(Field::EmailStatus)) && person.email.is_some() {
        out.insert(
            "email_addresses".into(),
            json!([{"address": person.email, "primary": true, "status": person.email_status}]),
        );
    }
    if (has(Field::Phone) || has(Field::PhoneStatus))
        && let Some(phone) = &person.phone
    {
        out.insert(
            "phone_numbers".into(),
            json!([{"number": phone.trim_start_matches('+'), "primary": true, "number_type": "Mobile", "status": person.phone_status}]),
        );
    }
    if has(Field::Postal)
        && let Some(p) = &person.postal
    {
        out.insert(
            "postal_addresses".into(),
            json!([{"primary": true, "address_lines": p.address_line.iter().collect::<Vec<_>>(), "locality": p.locality,
                "region": p.region, "postal_code": p.postal_code, "country": p.country}]),
        );
    }
    if has(Field::Language)
        && let Some(l) = &person.language
    {
        out.insert("languages_spoken".into(), json!([l]));
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remote() -> Value {
        json!({
            "identifiers": ["action_network:d91b4b2e-ae0e-4cd3-9ed7-d0ec501b0bc3"],
            "given_name": "Lauren", "family_name": "Smith",
            "email_addresses": [{"address": "old@example.com"}, {"primary": true, "address": "LSmith@Example.com", "status": "subscribed"}],
            "phone_numbers": [{"primary": true, "number": "12024561111", "number_type": "Mobile", "status": "unsubscribed"}],
            "postal_addresses": [{"primary": true, "address_lines": ["1900 Pennsylvania Ave"], "locality": "Washington", "region": "DC", "postal_code": "20009", "country": "US"}],
            "languages_spoken": ["en"]
        })
    }

    #[test]
    fn remote_people_map_from_their_primary_entries() {
        let c = remote_to_canonical(&remote());
        assert_eq!(c.email.as_deref(), Some("lsmith@example.com"));
        assert_eq!(
            (c.phone.as_deref(), c.phone_status.as_deref()),
            (Some("+12024561111"), Some("unsubscribed"))
        );
        assert_eq!(
            c.postal.as_ref().unwrap().locality.as_deref(),
            Some("Washington")
        );
        assert_eq!(c.language.as_deref(), Some("en"));
        let mut no_code = remote();
        no_code["postal_addresses"][0]["postal_code"] = json!("");
        assert_eq!(
            remote_to_canonical(&no_code).postal,
            None,
            "no postal code, no address"
        );
    }

    #[test]
    fn local_people_map_opt_outs_and_languages() {
        let p = LocalPerson {
            first_name: Some("Lauren".into()),
            email: Some("LSmith@example.com".into()),
            phone: Some("+12024561111".into()),
            preferred_language: Some("en_GB".into()),
            is_opt_out: true,
            ..Default::default()
        };
        let c = local_to_canonical(&p);
        assert_eq!(
            (c.email_status.as_deref(), c.phone_status.as_deref()),
            (Some("unsubscribed"), Some("unsubscribed"))
        );
        assert_eq!(
            (c.language.as_deref(), c.email.as_deref()),
            (Some("en"), Some("lsmith@example.com"))
        );
        assert_eq!(
            local_to_canonical(&LocalPerson::default()).phone_status,
            None
        );
    }

    #[test]
    fn a_put_carries_only_the_changed_members() {
        let c = remote_to_canonical(&remote());
        let body = remote_members(&c, &[Field::GivenName, Field::PhoneStatus]);
        let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["given_name", "phone_numbers"]);
        assert_eq!(body["phone_numbers"][0]["number"], "12024561111");
        assert!(body.get("identifiers").is_none());
    }

    #[test]
    fn records_of_the_wrong_shape_are_named() {
        assert_eq!(malformed(&remote()), None);
        let bad = |member: &str, value: Value| {
            let mut r = remote();
            r[member] = value;
            malformed(&r)
        };
        assert!(bad("email_addresses", json!("a@example.org")).is_some());
        assert!(bad("email_addresses", json!([{"address": 7}])).is_some());
        assert!(bad("given_name", json!(["Lauren"])).is_some());
        assert!(bad("modified_date", json!("yesterday")).is_some());
        assert!(bad("modified_date", json!(1_700_000_000)).is_some());
        assert!(bad("postal_addresses", json!([{"address_lines": "1 Main St"}])).is_some());
        assert!(bad("identifiers", json!("action_network:1")).is_some());
        assert_eq!(
            bad("custom_fields", json!({"any": ["thing"]})),
            None,
            "unknown members pass"
        );
        assert_eq!(
            malformed(&json!("a person")).as_deref(),
            Some("the record is not an object")
        );
    }
}
