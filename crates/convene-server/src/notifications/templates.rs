//! The wording of every notification and mail, per locale, as minijinja templates embedded in
//! the binary. Each kind has a `.txt` (blocks `title` and `text`, not escaped) and a `.html`
//! (block `message`, escaped); `_layout.*` wraps mail bodies.

use convene_core::notification::Kind;
use minijinja::{AutoEscape, Environment, Value};

macro_rules! embed {
    ($($locale:literal => [$($name:literal),*]),*) => {
        &[$($((concat!($locale, "/", $name), include_str!(concat!("../../templates/", $locale, "/", $name)))),*),*]
    };
}

const FILES: &[(&str, &str)] = embed!(
    "en" => ["participant_registered.txt", "participant_registered.html", "event_changed.txt", "event_changed.html",
             "event.reminder.txt", "event.reminder.html",
             "registration_confirmed.txt", "registration_confirmed.html",
             "registration_cancelled.txt", "registration_cancelled.html",
             "room_failed.txt", "room_failed.html", "sync_failed.txt", "sync_failed.html",
             "webhook_health.txt", "webhook_health.html", "connector_failed.txt", "connector_failed.html",
             "announcement.txt", "announcement.html", "test_mail.txt", "test_mail.html",
             "digest.txt", "digest.html", "_layout.txt", "_layout.html"],
    "de" => ["participant_registered.txt", "participant_registered.html", "event_changed.txt", "event_changed.html",
             "event.reminder.txt", "event.reminder.html",
             "registration_confirmed.txt", "registration_confirmed.html",
             "registration_cancelled.txt", "registration_cancelled.html",
             "room_failed.txt", "room_failed.html", "sync_failed.txt", "sync_failed.html",
             "webhook_health.txt", "webhook_health.html", "connector_failed.txt", "connector_failed.html",
             "announcement.txt", "announcement.html", "test_mail.txt", "test_mail.html",
             "digest.txt", "digest.html", "_layout.txt", "_layout.html"]
);

pub const LOCALES: &[&str] = &["en", "de"];

/// What one kind says to one reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The notification's title and the mail's subject.
    pub title: String,
    /// The notification's message (HTML).
    pub message: String,
    /// The mail's plain-text body, before the layout.
    pub text: String,
}

/// A mail body in both forms, layout included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailBody {
    pub text: String,
    pub html: String,
}

pub struct Templates {
    env: Environment<'static>,
    fallback: &'static str,
}

#[derive(Debug, thiserror::Error)]
#[error("template {name}: {source}")]
pub struct TemplateError {
    name: String,
    #[source]
    source: minijinja::Error,
}

impl Templates {
    /// `fallback`: the locale of readers whose own is not among [`LOCALES`].
    pub fn new(fallback: &str) -> Self {
        let mut env = Environment::new();
        env.set_auto_escape_callback(|name| {
            if name.ends_with(".html") {
                AutoEscape::Html
            } else {
                AutoEscape::None
            }
        });
        for (name, source) in FILES {
            env.add_template(name, source)
                .expect("embedded templates parse (checked by a test)");
        }
        let fallback = LOCALES
            .iter()
            .find(|l| **l == fallback)
            .copied()
            .unwrap_or("en");
        Self { env, fallback }
    }

    /// The best locale we have for `wanted` (`de-AT` → `de`).
    pub fn locale(&self, wanted: Option<&str>) -> &'static str {
        let primary = wanted
            .and_then(|w| w.split(['-', '_']).next())
            .map(str::to_ascii_lowercase);
        LOCALES
            .iter()
            .find(|l| Some(**l) == primary.as_deref())
            .copied()
            .unwrap_or(self.fallback)
    }

    fn block(&self, name: &str, block: &str, ctx: &Value) -> Result<String, TemplateError> {
        let wrap = |source| TemplateError {
            name: name.to_owned(),
            source,
        };
        let template = self.env.get_template(name).map_err(wrap)?;
        let mut captured = template.render_captured(ctx).map_err(wrap)?;
        captured
            .with_state_mut(|state| state.render_block(block))
            .map(|s| s.trim().to_owned())
            .map_err(wrap)
    }

    pub fn render(&self, kind: Kind, locale: &str, ctx: &Value) -> Result<Rendered, TemplateError> {
        let base = format!("{locale}/{}", kind.as_str());
        Ok(Rendered {
            title: self.block(&format!("{base}.txt"), "title", ctx)?,
            text: self.block(&format!("{base}.txt"), "text", ctx)?,
            message: self.block(&format!("{base}.html"), "message", ctx)?,
        })
    }

    /// Wraps a rendered message in the mail layout of `locale`.
    pub fn mail(
        &self,
        locale: &str,
        name: &str,
        rendered: &Rendered,
        unsubscribe_url: Option<&str>,
    ) -> Result<MailBody, TemplateError> {
        let ctx = minijinja::context! {
            name => name,
            subject => rendered.title,
            body => rendered.text,
            unsubscribe_url => unsubscribe_url,
        };
        let text = self.whole(&format!("{locale}/_layout.txt"), &ctx)?;
        let ctx = minijinja::context! {
            name => name,
            subject => rendered.title,
            body => rendered.message,
            unsubscribe_url => unsubscribe_url,
        };
        let html = self.whole(&format!("{locale}/_layout.html"), &ctx)?;
        Ok(MailBody { text, html })
    }

    fn whole(&self, name: &str, ctx: &Value) -> Result<String, TemplateError> {
        let wrap = |source| TemplateError {
            name: name.to_owned(),
            source,
        };
        self.env
            .get_template(name)
            .and_then(|t| t.render(ctx))
            .map_err(wrap)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use minijinja::context;

    fn ctx() -> Value {
        context! {
            count => 1, more => 0, names => vec!["Ann <b>"], event => context!{ title => "Edit & Learn", starts_at => "2026-12-01T10:00:00Z" },
            session => context!{ number => 3, title => "Opening", local_start => "2026-12-01 10:00 CET", url => "https://meet.example.org/r" },
            amount => 24, unit => "h", error => "refused", title => "Hi", text => "Hello", message => "<p>Hello</p>",
            app_name => "Convene", actor => "Root", what => "exhausted",
            webhook => context!{ id => "w-1", url => "https://hooks.example.org/in?a=1&b=2" },
            delivery => context!{ id => "d-1", event_type => "participant.registered" },
        }
    }

    #[test]
    fn every_kind_renders_in_every_locale() {
        let t = Templates::new("en");
        for locale in LOCALES {
            for kind in Kind::ALL {
                let r = t.render(kind, locale, &ctx()).unwrap();
                assert!(
                    !r.title.is_empty() && !r.text.is_empty() && !r.message.is_empty(),
                    "{locale} {kind:?}"
                );
                t.mail(locale, "Ann", &r, Some("http://x/unsubscribe/t"))
                    .unwrap();
            }
        }
    }

    #[test]
    fn html_is_escaped_and_text_is_not() {
        let t = Templates::new("en");
        let r = t.render(Kind::ParticipantRegistered, "en", &ctx()).unwrap();
        assert_eq!(r.title, "New registration for Edit & Learn");
        assert_eq!(
            r.message,
            "<strong>Ann &lt;b&gt;</strong> registered for Edit &amp; Learn."
        );
        let de = t
            .render(Kind::ParticipantRegistered, t.locale(Some("de-AT")), &ctx())
            .unwrap();
        assert_eq!(de.title, "Neue Anmeldung für Edit & Learn");
        assert_eq!(t.locale(Some("fr")), "en");
        let many = context! { count => 12, more => 2, names => vec!["A", "B"], event => context!{ title => "X" } };
        let r = t.render(Kind::ParticipantRegistered, "en", &many).unwrap();
        assert_eq!(
            (r.title.as_str(), r.text.as_str()),
            (
                "12 new registrations for X",
                "A, B and 2 more registered for X."
            )
        );
        assert_eq!(t.locale(None), "en");
    }
}
