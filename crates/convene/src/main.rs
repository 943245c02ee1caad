//! `convene`: parses the command line and calls the libraries. Nothing else lives here.

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use convene_server::{Config, Role, commands, telemetry};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "convene",
    version,
    about = "Integration server for event and community platforms"
)]
struct Cli {
    /// A TOML file overriding the embedded defaults (environment variables override both).
    #[arg(long, global = true, env = "CONVENE_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run migrations, then the HTTP API and the background workers.
    Serve {
        #[arg(long, value_enum, default_value_t = RoleArg::All)]
        role: RoleArg,
    },
    /// Apply migrations and exit.
    Migrate,
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Inspect the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Print the OpenAPI document.
    Openapi,
    /// Look at the conferencing provider.
    #[command(subcommand)]
    Conferencing(ConferencingCommand),
    /// CRM sync over OSDI (Action Network).
    #[command(subcommand)]
    Osdi(OsdiCommand),
    /// Write a consistent copy of the SQLite database to PATH (a new file) while it is in use;
    /// prints {"path", "bytes"}. On PostgreSQL, use pg_dump (exit status 2).
    Backup { path: PathBuf },
    /// Remove what is past its [retention] age now (one pass, as the workers run it); prints
    /// what was removed per kind.
    Purge,
    /// The key stored secrets are sealed with.
    #[command(subcommand)]
    Secrets(SecretsCommand),
}

#[derive(Subcommand)]
enum SecretsCommand {
    /// Seal every stored secret again under the current [secrets] key (put the old key in
    /// [secrets] previous_keys first); prints how many were written.
    Rotate,
}

#[derive(Subcommand)]
enum OsdiCommand {
    /// Run a sync of a profile (by name or id) here, with a progress bar; prints a summary.
    Sync {
        profile: String,
        /// people, tags, attendances or donations.
        #[arg(long, default_value = "people")]
        job: String,
        /// remote, local or both.
        #[arg(long, default_value = "both")]
        origin: String,
    },
}

#[derive(Subcommand)]
enum ConferencingCommand {
    /// List the provider's rooms of a group.
    Rooms { group: String },
}

#[derive(Clone, Copy, ValueEnum)]
enum RoleArg {
    All,
    Api,
    Worker,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user and print it as JSON.
    Create {
        username: String,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        admin: bool,
    },
    /// Set the password the admin web UI signs in with, read from standard input (its first
    /// line; at least 10 characters).
    SetPassword { username: String },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create an API token and print its secret (shown only this once).
    Create {
        username: String,
        #[arg(long)]
        name: Option<String>,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Validate the configuration and print it, secrets redacted.
    Check,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Command::Openapi = cli.command {
        println!("{}", commands::openapi()?);
        return Ok(());
    }
    let config = Config::load(cli.config.as_deref())?;
    let telemetry = telemetry::init(config.log_format, &config.telemetry)?;
    let done = run(cli.command, config).await;
    telemetry.shutdown().await;
    done
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve { role } => {
            let role = match role {
                RoleArg::All => Role::All,
                RoleArg::Api => Role::Api,
                RoleArg::Worker => Role::Worker,
            };
            let listener = match role {
                Role::Worker => None,
                _ => Some(
                    tokio::net::TcpListener::bind(config.listen)
                        .await
                        .with_context(|| format!("binding {}", config.listen))?,
                ),
            };
            convene_server::run(
                config,
                role,
                listener,
                convene_server::shutdown_on_signals(),
            )
            .await
        }
        Command::Migrate => {
            convene_server::startup::migrate(&config)
                .await?
                .close()
                .await;
            println!("migrations applied");
            Ok(())
        }
        Command::User(UserCommand::Create {
            username,
            email,
            admin,
        }) => print_json(commands::create_user(&config, &username, email.as_deref(), admin).await?),
        Command::User(UserCommand::SetPassword { username }) => {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line)?;
            let password = line.trim_end_matches(['\r', '\n']);
            commands::set_password(&config, &username, password).await?;
            println!("password set for {username}");
            Ok(())
        }
        Command::Token(TokenCommand::Create { username, name }) => {
            print_json(commands::create_token(&config, &username, name.as_deref()).await?)
        }
        Command::Config(ConfigCommand::Check) => {
            println!("{}", commands::config_check(&config)?);
            Ok(())
        }
        Command::Conferencing(ConferencingCommand::Rooms { group }) => {
            print!("{}", commands::conferencing_rooms(&config, &group).await?);
            Ok(())
        }
        Command::Osdi(OsdiCommand::Sync {
            profile,
            job,
            origin,
        }) => {
            print!(
                "{}",
                convene_server::osdi::cli::sync(&config, &profile, &job, &origin).await?
            );
            Ok(())
        }
        Command::Purge => print_json(commands::purge(&config).await?),
        Command::Backup { path } => match commands::backup(&config, &path).await? {
            Some(done) => print_json(done),
            None => {
                eprintln!(
                    "convene backup copies SQLite databases; back PostgreSQL up with pg_dump \
                     (e.g. pg_dump -Fc DATABASE_URL > convene.dump) and restore with pg_restore"
                );
                std::process::exit(2)
            }
        },
        Command::Secrets(SecretsCommand::Rotate) => {
            print_json(commands::secrets_rotate(&config).await?)
        }
        Command::Openapi => unreachable!("handled before loading the configuration"),
    }
}

fn print_json(value: serde_json::Value) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(&value)?);
    Ok(())
}
