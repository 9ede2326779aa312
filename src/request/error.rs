//! Why a request cannot be evaluated: [`RequestError`], with stable codes.

use miette::Diagnostic;

/// Why a request cannot be evaluated. Every variant carries the JSON `path`
/// of the offending value (empty for the whole document), the `message`, and
/// a `help` with the fix when there is one. Codes are stable:
/// `rpl::request::<name>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Diagnostic)]
pub enum RequestError {
    /// Not valid JSON or TOML.
    #[error("{message}")]
    #[diagnostic(code(rpl::request::syntax))]
    Syntax {
        path: String,
        message: String,
        #[help]
        help: Option<String>,
    },
    /// A key given twice in one object: no reading of it is safe.
    #[error("{message}")]
    #[diagnostic(code(rpl::request::duplicate_key))]
    DuplicateKey {
        path: String,
        message: String,
        #[help]
        help: Option<String>,
    },
    /// A request larger than the size limit.
    #[error("{message}")]
    #[diagnostic(code(rpl::request::too_large))]
    TooLarge {
        path: String,
        message: String,
        #[help]
        help: Option<String>,
    },
    /// A request file that could not be read; the path is the file's.
    #[error("{message}")]
    #[diagnostic(code(rpl::request::io))]
    Io {
        path: String,
        message: String,
        #[help]
        help: Option<String>,
    },
    /// A value of the wrong JSON type (a number for a string, an array for
    /// an object, ...).
    #[error("{message}")]
    #[diagnostic(code(rpl::request::wrong_type))]
    WrongType {
        path: String,
        message: String,
        #[help]
        help: Option<String>,
    },
    /// A required field left out or `null`.
    #[error("{message}")]
    #[diagnostic(code(rpl::request::missing_field))]
    MissingField {
        path: String,
        message: String,
        #[help]
        help: Option<String>,
    },
    /// A key the schema does not declare.
    #[error("{message}")]
    #[diagnostic(code(rpl::request::unknown_field))]
    UnknownField {
        path: String,
        message: String,
        #[help]
        help: Option<String>,
    },
    /// An enum value not in the field's list.
    #[error("{message}")]
    #[diagnostic(code(rpl::request::unknown_variant))]
    UnknownVariant {
        path: String,
        message: String,
        #[help]
        help: Option<String>,
    },
    /// An amount given as a number: a float may already have lost cents.
    #[error("{message}")]
    #[diagnostic(code(rpl::request::amount_not_string))]
    AmountNotString {
        path: String,
        message: String,
        #[help]
        help: Option<String>,
    },
    /// An amount with more digits after the point than allowed (2).
    #[error("{message}")]
    #[diagnostic(code(rpl::request::amount_precision))]
    AmountPrecision {
        path: String,
        message: String,
        #[help]
        help: Option<String>,
    },
    /// An amount string that is not a plain decimal (`1e3`, `+1`, `abc`).
    #[error("{message}")]
    #[diagnostic(code(rpl::request::bad_amount))]
    BadAmount {
        path: String,
        message: String,
        #[help]
        help: Option<String>,
    },
    /// A number outside the field's bounds (negative amount, quantity 0, or
    /// too large to hold exactly).
    #[error("{message}")]
    #[diagnostic(code(rpl::request::out_of_range))]
    OutOfRange {
        path: String,
        message: String,
        #[help]
        help: Option<String>,
    },
    /// A timestamp that is not RFC 3339 or not a real date and time.
    #[error("{message}")]
    #[diagnostic(code(rpl::request::bad_timestamp))]
    BadTimestamp {
        path: String,
        message: String,
        #[help]
        help: Option<String>,
    },
    /// A timestamp without `Z` or `+hh:mm`: ambiguous.
    #[error("{message}")]
    #[diagnostic(code(rpl::request::missing_offset))]
    MissingOffset {
        path: String,
        message: String,
        #[help]
        help: Option<String>,
    },
    /// Two timestamps in an impossible order (a refund requested before the
    /// order was placed, ...).
    #[error("{message}")]
    #[diagnostic(code(rpl::request::dates_out_of_order))]
    DatesOutOfOrder {
        path: String,
        message: String,
        #[help]
        help: Option<String>,
    },
    /// A currency that is not three capital letters.
    #[error("{message}")]
    #[diagnostic(code(rpl::request::bad_currency))]
    BadCurrency {
        path: String,
        message: String,
        #[help]
        help: Option<String>,
    },
}

impl RequestError {
    fn parts(&self) -> (&'static str, &str, &str, Option<&str>) {
        use RequestError as E;
        let (code, path, message, help) = match self {
            E::Syntax {
                path,
                message,
                help,
            } => ("rpl::request::syntax", path, message, help),
            E::DuplicateKey {
                path,
                message,
                help,
            } => ("rpl::request::duplicate_key", path, message, help),
            E::TooLarge {
                path,
                message,
                help,
            } => ("rpl::request::too_large", path, message, help),
            E::Io {
                path,
                message,
                help,
            } => ("rpl::request::io", path, message, help),
            E::WrongType {
                path,
                message,
                help,
            } => ("rpl::request::wrong_type", path, message, help),
            E::MissingField {
                path,
                message,
                help,
            } => ("rpl::request::missing_field", path, message, help),
            E::UnknownField {
                path,
                message,
                help,
            } => ("rpl::request::unknown_field", path, message, help),
            E::UnknownVariant {
                path,
                message,
                help,
            } => ("rpl::request::unknown_variant", path, message, help),
            E::AmountNotString {
                path,
                message,
                help,
            } => ("rpl::request::amount_not_string", path, message, help),
            E::AmountPrecision {
                path,
                message,
                help,
            } => ("rpl::request::amount_precision", path, message, help),
            E::BadAmount {
                path,
                message,
                help,
            } => ("rpl::request::bad_amount", path, message, help),
            E::OutOfRange {
                path,
                message,
                help,
            } => ("rpl::request::out_of_range", path, message, help),
            E::BadTimestamp {
                path,
                message,
                help,
            } => ("rpl::request::bad_timestamp", path, message, help),
            E::MissingOffset {
                path,
                message,
                help,
            } => ("rpl::request::missing_offset", path, message, help),
            E::DatesOutOfOrder {
                path,
                message,
                help,
            } => ("rpl::request::dates_out_of_order", path, message, help),
            E::BadCurrency {
                path,
                message,
                help,
            } => ("rpl::request::bad_currency", path, message, help),
        };
        (code, path, message, help.as_deref())
    }

    /// The stable code, such as `rpl::request::missing_field`.
    pub fn code(&self) -> &'static str {
        self.parts().0
    }

    /// JSON path of the offending value, such as `item.paid_amount`; empty
    /// when the error is about the whole document.
    pub fn path(&self) -> &str {
        self.parts().1
    }

    /// The message, without the help.
    pub fn message(&self) -> &str {
        self.parts().2
    }

    /// How to fix it, when there is something to say.
    pub fn help_text(&self) -> Option<&str> {
        self.parts().3
    }
}
