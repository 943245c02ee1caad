//! Donations (contributions) of people: write-once records, as Action Network keeps them.

use crate::{DonationId, PersonId, Timestamp};

/// A positive amount of money as a decimal string: up to 12 whole digits and up to 3 decimals,
/// kept with at least two (`"40"` is `"40.00"`), never through a float.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Amount(String);

impl Amount {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        const WHY: &str = "must be a positive decimal string such as \"40.00\"";
        let raw = raw.trim();
        let (whole, cents) = raw.split_once('.').unwrap_or((raw, ""));
        let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
        let ok = (1..=12).contains(&whole.len())
            && digits(whole)
            && cents.len() <= 3
            && digits(cents)
            && !(raw.contains('.') && cents.is_empty());
        if !ok || raw.chars().all(|c| c == '0' || c == '.') {
            return Err(WHY);
        }
        let whole = whole.trim_start_matches('0');
        let whole = if whole.is_empty() { "0" } else { whole };
        Ok(Self(format!("{whole}.{cents:0<2}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// ISO 4217 codes in use, upper case.
const CURRENCIES: &str = "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND \
BOB BRL BSD BTN BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB \
EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY \
KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR \
MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF \
SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS \
UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWG";

/// An ISO 4217 currency code (Action Network writes it in lower case; kept upper).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Currency(String);

impl Currency {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let code = raw.trim().to_ascii_uppercase();
        let known = code.len() == 3 && CURRENCIES.split_whitespace().any(|c| c == code);
        known
            .then_some(Self(code))
            .ok_or("must be an ISO 4217 currency code such as \"USD\"")
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How often a recurring donation repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recurrence {
    Weekly,
    Monthly,
    Quarterly,
    Semiannually,
    Yearly,
}

impl Recurrence {
    pub const NAMES: &'static str = "weekly, monthly, quarterly, semiannually or yearly";

    pub fn as_str(self) -> &'static str {
        match self {
            Recurrence::Weekly => "weekly",
            Recurrence::Monthly => "monthly",
            Recurrence::Quarterly => "quarterly",
            Recurrence::Semiannually => "semiannually",
            Recurrence::Yearly => "yearly",
        }
    }

    /// Our names, and Action Network's periods (`"Monthly"`, `"Every 3 Months"`, …).
    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw.trim().to_ascii_lowercase().as_str() {
            "weekly" => Recurrence::Weekly,
            "monthly" => Recurrence::Monthly,
            "quarterly" | "every 3 months" => Recurrence::Quarterly,
            "semiannually" | "every 6 months" => Recurrence::Semiannually,
            "yearly" | "annually" => Recurrence::Yearly,
            _ => return None,
        })
    }

    /// Action Network's name of the period.
    pub fn remote(self) -> &'static str {
        match self {
            Recurrence::Weekly => "Weekly",
            Recurrence::Monthly => "Monthly",
            Recurrence::Quarterly => "Every 3 Months",
            Recurrence::Semiannually => "Every 6 Months",
            Recurrence::Yearly => "Yearly",
        }
    }
}

/// What a donation holds, as the API or a sync writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDonation {
    pub amount: Amount,
    pub currency: Currency,
    pub received_at: Timestamp,
    pub recurrence: Option<Recurrence>,
    /// The fundraising page's URL.
    pub fundraising_page: Option<String>,
    /// The referrer code (Action Network's `referrer_data.source`).
    pub referrer: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Donation {
    pub id: DonationId,
    pub person_id: PersonId,
    pub fields: NewDonation,
    /// The Action Network id, once a sync has paired it.
    pub remote_id: Option<String>,
    pub created_at: Timestamp,
}

/// The page URL or referrer text as given: trimmed, bounded, no control characters.
fn bounded(
    errors: &mut crate::FieldErrors,
    field: &str,
    raw: Option<String>,
    max: usize,
) -> Option<String> {
    let s = raw.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())?;
    if s.chars().count() > max || s.chars().any(char::is_control) {
        errors.add(
            field,
            format!("must be at most {max} characters without control characters"),
        );
        return None;
    }
    Some(s)
}

impl NewDonation {
    /// Checks raw values into a donation, naming each problem.
    pub fn check(
        errors: &mut crate::FieldErrors,
        amount: Option<String>,
        currency: Option<String>,
        received_at: Option<String>,
        recurrence: Option<String>,
        fundraising_page: Option<String>,
        referrer: Option<String>,
    ) -> Option<Self> {
        let amount = errors
            .require("amount", amount)
            .and_then(|a| errors.check("amount", Amount::parse(&a)));
        let currency = errors
            .require("currency", currency)
            .and_then(|c| errors.check("currency", Currency::parse(&c)));
        let received_at = errors.require("received_at", received_at).and_then(|t| {
            let parsed = Timestamp::parse(t.trim(), &time::format_description::well_known::Rfc3339);
            let why = "must be an RFC 3339 time such as 2026-11-23T10:00:00Z";
            errors.check("received_at", parsed.map_err(|_| why))
        });
        let recurrence = match recurrence.filter(|r| !r.trim().is_empty()) {
            None => None,
            Some(r) => {
                let parsed = Recurrence::parse(&r);
                if parsed.is_none() {
                    errors.add("recurrence", format!("must be null, {}", Recurrence::NAMES));
                }
                parsed
            }
        };
        let fundraising_page = bounded(errors, "fundraising_page", fundraising_page, 2000);
        if fundraising_page
            .as_deref()
            .is_some_and(|u| !(u.starts_with("https://") || u.starts_with("http://")))
        {
            errors.add("fundraising_page", "must be an http(s) URL");
        }
        let referrer = bounded(errors, "referrer", referrer, 255);
        Some(Self {
            amount: amount?,
            currency: currency?,
            received_at: received_at?,
            recurrence,
            fundraising_page,
            referrer,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_decimal_strings() {
        for (raw, kept) in [
            ("40", "40.00"),
            ("40.5", "40.50"),
            ("0040.00", "40.00"),
            ("0.25", "0.25"),
            ("1.125", "1.125"),
        ] {
            assert_eq!(
                Amount::parse(raw).map(|a| a.0),
                Ok(kept.to_owned()),
                "{raw}"
            );
        }
        for bad in [
            "",
            "0",
            "0.00",
            "-5",
            "4e3",
            "1.",
            ".5",
            "1.2345",
            "1,00",
            "1234567890123",
            "NaN",
        ] {
            assert!(Amount::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn currencies_and_recurrences_are_known_names() {
        assert_eq!(Currency::parse("usd").map(|c| c.0), Ok("USD".to_owned()));
        assert!(Currency::parse("XYZ").is_err() && Currency::parse("US").is_err());
        assert_eq!(
            Recurrence::parse("Every 3 Months"),
            Some(Recurrence::Quarterly)
        );
        assert_eq!(Recurrence::parse("fortnightly"), None);
    }
}
