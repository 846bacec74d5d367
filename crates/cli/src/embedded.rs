//! Embedded SCA from the command line (`psd2 consent create --sca embedded`, `psd2 sca
//! --method embedded`): the PSU's password comes from `$PSD2_PSU_PASSWORD`, the SCA method
//! from `--sca-method` (else the first the bank offers), the one-time code from `--otp` or a
//! line on stdin. The password and the code are never printed or logged, and are scrubbed
//! from error output.

use std::io::{BufRead as _, Write as _};

use psd2::{
    ConsentId, Consents, EmbeddedChallenge, OfferedScaMethod, Psu, ScaChallenge, ScaMethod, Secret,
};

use crate::cli::EmbeddedArgs;
use crate::commands::Context;
use crate::error::CliError;
use crate::output;

/// The environment variable holding the PSU's password for embedded SCA.
pub const PASSWORD_ENV: &str = "PSD2_PSU_PASSWORD";

/// The longest one-time code accepted from the command line or stdin.
const MAX_OTP_LEN: usize = 64;

/// The longest SCA method id: the standard's `authenticationMethodId` is `Max35Text`.
const MAX_METHOD_ID_LEN: usize = 35;

/// Runs embedded SCA for `consent`; the session once the bank reports it finalised.
///
/// Everything that can be checked is checked before the password leaves: the PSU id, the
/// form of `--sca-method` and `--otp`, and `--sca-method` against `known` (the methods the
/// consent creation answer listed, if any).
pub async fn authorise(
    ctx: &Context,
    consent: &ConsentId,
    args: &EmbeddedArgs,
    secrets: &mut Vec<String>,
    known: &[OfferedScaMethod],
) -> Result<psd2::Session, CliError> {
    let wanted = args.sca_method.as_deref().map(method_id).transpose()?;
    if let Some(otp) = &args.otp {
        check_otp(otp, &EmbeddedChallenge::default())?;
    }
    if let Some(wanted) = wanted
        && !known.is_empty()
    {
        pick_method(known, Some(wanted))?;
    }
    if ctx.psu.id.is_none() {
        return Err(CliError::Usage(
            "embedded SCA needs the PSU's login id: set psu_id in the config file or \
             PSD2_PSU_ID"
                .into(),
        ));
    }
    let password = std::env::var(PASSWORD_ENV)
        .ok()
        .filter(|p| !p.is_empty())
        .map(Secret::new)
        .ok_or_else(|| {
            CliError::Usage(format!(
                "embedded SCA needs the PSU's password in ${PASSWORD_ENV} (never on the command \
                 line or in the config file)"
            ))
        })?;
    secrets.push(password.expose().to_owned());
    let bank = ctx.bank();
    let pick = |offered: &[OfferedScaMethod]| {
        pick_method(offered, wanted).map_err(|e| match e {
            CliError::Usage(text) => CliError::Usage(format!(
                "{text}; the authorisation just started stays unfinished at the bank (it \
                 expires there): run `psd2 sca --method embedded --sca-method ID` with one of \
                 those"
            )),
            other => other,
        })
    };
    let code = |challenge: &EmbeddedChallenge| {
        describe(bank, challenge);
        let otp = match &args.otp {
            Some(otp) => Secret::new(otp.as_str()),
            None => read_otp()?,
        };
        secrets.push(otp.expose().to_owned());
        check_otp(otp.expose(), challenge)?;
        Ok(otp)
    };
    relay(
        ctx.consents()?,
        bank,
        consent,
        &ctx.psu,
        password,
        pick,
        code,
    )
    .await
}

/// The embedded steps against `consents`: start with `password`, choose one of the offered
/// methods with `pick` (unless the bank chose already), then send the code `code` gives for
/// the challenge. Used by `psd2 consent create --sca embedded`, `psd2 sca` and the demo.
pub async fn relay(
    consents: &dyn Consents,
    bank: &str,
    consent: &ConsentId,
    psu: &Psu,
    password: Secret,
    pick: impl FnOnce(&[OfferedScaMethod]) -> Result<String, CliError>,
    code: impl FnOnce(&EmbeddedChallenge) -> Result<Secret, CliError>,
) -> Result<psd2::Session, CliError> {
    let method = ScaMethod::Embedded { password };
    let started = consents.start_sca(consent, &method, psu).await?;
    drop(method);
    let other = |step: &str| {
        CliError::Local(format!(
            "{bank} answered {step} with another approach; use `psd2 sca --method redirect` \
             or `--method decoupled`"
        ))
    };
    let ScaChallenge::Embedded {
        handle,
        methods,
        challenge,
    } = started
    else {
        return Err(other("an embedded SCA request"));
    };
    let challenge = match challenge {
        Some(challenge) => challenge,
        None => {
            let id = pick(&methods)?;
            match consents
                .select_sca_method(consent, &handle, &id, psu)
                .await?
            {
                ScaChallenge::Embedded { challenge, .. } => challenge.unwrap_or_default(),
                _ => return Err(other("the choice of an SCA method")),
            }
        }
    };
    let otp = code(&challenge)?;
    Ok(consents
        .complete_embedded(consent, &handle, &otp, psu)
        .await?)
}

/// A `--sca-method` id as given, if it can be one (refused before anything is sent).
fn method_id(id: &str) -> Result<&str, CliError> {
    let id = id.trim();
    if id.is_empty()
        || id.chars().count() > MAX_METHOD_ID_LEN
        || id.chars().any(|c| c.is_control() || c.is_whitespace())
    {
        return Err(CliError::Usage(format!(
            "--sca-method takes the id of a method the bank offers (at most \
             {MAX_METHOD_ID_LEN} characters, no spaces), e.g. sms-otp"
        )));
    }
    Ok(id)
}

/// The method to use: the one asked for (which the bank must offer), else the first offered.
fn pick_method(methods: &[OfferedScaMethod], wanted: Option<&str>) -> Result<String, CliError> {
    let offered: Vec<&str> = methods.iter().filter_map(|m| m.id.as_deref()).collect();
    match wanted {
        Some(wanted) => offered
            .iter()
            .find(|id| **id == wanted.trim())
            .map(|id| id.to_string())
            .ok_or_else(|| {
                CliError::Usage(format!(
                    "the bank does not offer that SCA method; it offers: {}",
                    offered
                        .iter()
                        .map(|id| output::printable(id, 40))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            }),
        None => offered
            .first()
            .map(|id| id.to_string())
            .ok_or_else(|| CliError::Local("the bank offered no SCA method to choose from".into())),
    }
}

/// Tells the PSU on stderr what the bank asks for (never the code itself).
fn describe(bank: &str, challenge: &EmbeddedChallenge) {
    let method = challenge
        .method
        .as_ref()
        .and_then(|m| m.name.as_deref().or(m.id.as_deref()))
        .map(|name| output::printable(name, 60))
        .unwrap_or_else(|| "the chosen method".into());
    let mut text = format!("{bank}: enter the one-time code sent by {method}");
    if let Some(max) = challenge.otp_max_length {
        text.push_str(&format!(" (at most {max} characters)"));
    }
    eprintln!("{text}");
    if let Some(info) = &challenge.additional_information {
        eprintln!("{bank}: {}", output::printable(info, 300));
    }
}

/// Reads one line from stdin: the one-time code (the line is held as a [`Secret`], so it
/// is wiped when dropped).
fn read_otp() -> Result<Secret, CliError> {
    eprint!("one-time code: ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    let read = std::io::stdin().lock().read_line(&mut line);
    let line = Secret::new(line);
    read.map_err(|e| CliError::Local(format!("cannot read the one-time code from stdin: {e}")))?;
    Ok(Secret::new(line.expose().trim()))
}

/// Refuses a code that cannot be right before it is sent (a failed try may count against
/// the PSU at the bank). The message never repeats the code.
fn check_otp(otp: &str, challenge: &EmbeddedChallenge) -> Result<(), CliError> {
    let len = otp.chars().count();
    let problem = if otp.is_empty() {
        Some("is empty".to_string())
    } else if len > MAX_OTP_LEN {
        Some(format!("is longer than {MAX_OTP_LEN} characters"))
    } else if otp.chars().any(|c| c.is_control() || c.is_whitespace()) {
        Some("holds a space or a control character".to_string())
    } else if challenge
        .otp_max_length
        .is_some_and(|max| usize::try_from(max).is_ok_and(|max| len > max))
    {
        Some("is longer than the bank accepts".to_string())
    } else if challenge.otp_format.as_deref() == Some("integer")
        && !otp.chars().all(|c| c.is_ascii_digit())
    {
        Some("is not a number, which the bank asks for".to_string())
    } else {
        None
    };
    match problem {
        Some(problem) => Err(CliError::Usage(format!("the one-time code {problem}"))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use psd2::ScaApproach;

    fn method(id: &str) -> OfferedScaMethod {
        let mut m = OfferedScaMethod::new(ScaApproach::Embedded);
        m.id = Some(id.into());
        m
    }

    #[test]
    fn the_first_offered_method_is_the_default() {
        let methods = [method("sms-otp"), method("chip-otp")];
        assert_eq!(pick_method(&methods, None).unwrap(), "sms-otp");
        assert_eq!(pick_method(&methods, Some("chip-otp")).unwrap(), "chip-otp");
        let e = pick_method(&methods, Some("push")).unwrap_err().to_string();
        assert!(e.contains("sms-otp, chip-otp"), "{e}");
        assert!(pick_method(&[], None).is_err());
    }

    #[test]
    fn a_method_id_must_fit_the_standards_max35text() {
        assert_eq!(method_id(" sms-otp ").unwrap(), "sms-otp");
        assert_eq!(method_id(&"m".repeat(35)).unwrap().len(), 35);
        for bad in ["", "  ", "sms otp", "sms\u{1b}[2J", &"m".repeat(36)] {
            assert!(method_id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn impossible_codes_are_refused_without_repeating_them() {
        let mut challenge = EmbeddedChallenge::default();
        challenge.otp_max_length = Some(6);
        challenge.otp_format = Some("integer".into());
        assert!(check_otp("123456", &challenge).is_ok());
        for bad in ["", "1234567", "12a456", "12 456"] {
            let e = check_otp(bad, &challenge).unwrap_err().to_string();
            assert!(bad.is_empty() || !e.contains(bad), "{e}");
        }
        assert!(check_otp("abc", &EmbeddedChallenge::default()).is_ok());
    }
}
