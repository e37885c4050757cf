//! One finding of a lint: which operation, where in the document, what is wrong.

use std::fmt;

/// A lint finding.
///
/// It displays as one line, operation first, so that a list of problems reads
/// like compiler output: `getFlow: /paths/~1flows~1{flowId}/get/responses: …`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Problem {
    /// The `operationId` (or `METHOD /path` when it has none) the problem is
    /// in; `None` for document-wide parts such as `#/components/schemas`.
    pub operation: Option<String>,
    /// JSON pointer of the offending part of the document.
    pub location: String,
    /// What is wrong and, where it helps, what to do instead.
    pub message: String,
}

impl Problem {
    /// A problem inside the operation named `operation`.
    pub fn in_operation(
        operation: impl Into<String>,
        location: impl Into<String>,
        message: impl Into<String>,
    ) -> Problem {
        Problem {
            operation: Some(operation.into()),
            location: location.into(),
            message: message.into(),
        }
    }

    /// A problem in a document-wide part of the spec.
    pub fn in_document(location: impl Into<String>, message: impl Into<String>) -> Problem {
        Problem {
            operation: None,
            location: location.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(operation) = &self.operation {
            write!(f, "{operation}: ")?;
        }
        let location = if self.location.is_empty() {
            "(document root)"
        } else {
            &self.location
        };
        write!(f, "{location}: {}", self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_puts_the_operation_first() {
        let problem = Problem::in_operation("getFlow", "/paths/~1flows/get", "no operationId");

        assert_eq!(
            problem.to_string(),
            "getFlow: /paths/~1flows/get: no operationId"
        );
    }

    #[test]
    fn display_without_operation_starts_with_the_location() {
        let problem = Problem::in_document("/openapi", "expected 3.0.x");

        assert_eq!(problem.to_string(), "/openapi: expected 3.0.x");
    }
}
