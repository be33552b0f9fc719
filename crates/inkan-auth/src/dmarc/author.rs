//! The Author Domain: the domain of the single address in the single RFC5322.From field
//! (RFC 9989 §5.3.1). Zero or several From fields, or a From without exactly one mailbox, leave
//! no Author Domain and DMARC cannot be applied.

use mail_parser::{Address, MessageParser};

use crate::message::Message;

/// Why a message has no usable Author Domain.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthorError {
    /// No From header field.
    #[error("the message has no From header field")]
    NoFrom,
    /// More than one From header field.
    #[error("the message has {0} From header fields")]
    MultipleFrom(usize),
    /// The From field holds no address with a domain.
    #[error("From '{0}' holds no address with a domain")]
    NoAddress(String),
    /// The From field holds several addresses.
    #[error("From '{value}' holds {count} addresses")]
    MultipleAddresses {
        /// The field value.
        value: String,
        /// How many addresses.
        count: usize,
    },
}

/// The Author Domain of `message`, lower-cased, without a trailing dot.
pub fn author_domain(message: &Message<'_>) -> Result<String, AuthorError> {
    let mut fields = message.header_fields("From");
    let Some(from) = fields.next() else {
        return Err(AuthorError::NoFrom);
    };
    let extra = fields.count();
    if extra > 0 {
        return Err(AuthorError::MultipleFrom(extra + 1));
    }
    let value = from.unfolded_str();
    let mut one = b"From:".to_vec();
    one.extend_from_slice(from.value());
    one.extend_from_slice(b"\r\n\r\n");
    let parsed = MessageParser::default().parse_headers(&one[..]);
    let addresses: Vec<String> = match parsed.as_ref().and_then(|m| m.from()) {
        Some(Address::List(list)) => list
            .iter()
            .filter_map(|a| a.address().map(str::to_owned))
            .collect(),
        Some(Address::Group(groups)) => groups
            .iter()
            .flat_map(|g| {
                g.addresses
                    .iter()
                    .filter_map(|a| a.address().map(str::to_owned))
            })
            .collect(),
        None => Vec::new(),
    };
    match addresses.as_slice() {
        [one] => match one.rsplit_once('@') {
            Some((_, domain)) if !domain.trim().is_empty() => {
                Ok(domain.trim().trim_end_matches('.').to_ascii_lowercase())
            }
            _ => Err(AuthorError::NoAddress(value.trim().to_owned())),
        },
        [] => Err(AuthorError::NoAddress(value.trim().to_owned())),
        many => Err(AuthorError::MultipleAddresses {
            value: value.trim().to_owned(),
            count: many.len(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn domain(headers: &str) -> Result<String, AuthorError> {
        let message = Message::parse(format!("{headers}\r\nbody\r\n").into_bytes()).unwrap();
        author_domain(&message)
    }

    #[test]
    fn the_single_from_address_gives_the_domain() {
        assert_eq!(
            domain("From: Shop <News@Shop.Example>\r\n").unwrap(),
            "shop.example"
        );
        assert_eq!(
            domain("From: news@shop.example.\r\n").unwrap(),
            "shop.example"
        );
        assert_eq!(
            domain("From: \"a@evil.test\" <x@real.example>\r\n").unwrap(),
            "real.example"
        );
        assert_eq!(
            domain("From:\r\n (comment) x@folded.example\r\n").unwrap(),
            "folded.example"
        );
    }

    #[test]
    fn no_or_several_authors_are_errors() {
        assert_eq!(domain("To: a@b.example\r\n"), Err(AuthorError::NoFrom));
        assert_eq!(
            domain("From: a@b.example\r\nFrom: c@d.example\r\n"),
            Err(AuthorError::MultipleFrom(2))
        );
        assert!(matches!(
            domain("From: a@b.example, c@d.example\r\n"),
            Err(AuthorError::MultipleAddresses { count: 2, .. })
        ));
        assert!(matches!(
            domain("From: nobody\r\n"),
            Err(AuthorError::NoAddress(_))
        ));
        assert!(matches!(
            domain("From:\r\n"),
            Err(AuthorError::NoAddress(_))
        ));
    }
}
