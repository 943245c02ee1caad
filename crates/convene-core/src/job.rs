//! The kinds of connector job: durable outbound work that is not a webhook. A new kind is a
//! variant here, and the compiler then asks for its handler's registration and its name.

/// What a job does; each kind has one handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobKind {
    /// Sends an event's public participants to its linked Dashboard course.
    DashboardPush,
    /// Sends one queued mail.
    MailSend,
    /// Makes, moves or removes a session's video room.
    ConferenceRoom,
    /// Pushes a session's slide decks to its room.
    ConferenceSlides,
    /// Asks the provider for a session's recordings, for a while after it ends.
    ConferenceRecordings,
    /// Syncs one changed person with a realtime CRM sync profile (subject `profile/person`).
    OsdiPerson,
}

impl JobKind {
    pub const ALL: [JobKind; 6] = [
        JobKind::DashboardPush,
        JobKind::MailSend,
        JobKind::ConferenceRoom,
        JobKind::ConferenceSlides,
        JobKind::ConferenceRecordings,
        JobKind::OsdiPerson,
    ];

    /// The name stored with the job.
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::DashboardPush => "dashboard.push",
            JobKind::MailSend => "mail.send",
            JobKind::ConferenceRoom => "conference.room",
            JobKind::ConferenceSlides => "conference.slides",
            JobKind::ConferenceRecordings => "conference.recordings",
            JobKind::OsdiPerson => "osdi.person",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// The peer a job of this kind talks to.
    pub fn connector(self) -> Connector {
        match self {
            JobKind::DashboardPush => Connector::Dashboard,
            JobKind::MailSend => Connector::Mail,
            JobKind::ConferenceRoom | JobKind::ConferenceSlides | JobKind::ConferenceRecordings => {
                Connector::Conferencing
            }
            JobKind::OsdiPerson => Connector::Osdi,
        }
    }
}

/// The peers Convene's connectors talk to, as `connector.failed` and the log name them. Each
/// has one failing streak, kept in the store so every node agrees when it starts and ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Connector {
    Dashboard,
    Conferencing,
    Mail,
    Osdi,
}

impl Connector {
    pub fn as_str(self) -> &'static str {
        match self {
            Connector::Dashboard => "dashboard",
            Connector::Conferencing => "conferencing",
            Connector::Mail => "mail",
            Connector::Osdi => "osdi",
        }
    }
}

impl std::fmt::Display for JobKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
