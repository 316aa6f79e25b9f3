//! The sentences people read and what operators see, kept apart.

use super::*;

#[test]
fn operator_detail_never_reaches_the_sentence() {
    let error = LookerError::Api {
        as_person: false,
        status: 500,
        what: "GET /looks/7".into(),
        message: "java.lang.NullPointerException at com.looker.X".into(),
    };
    let told = UserError::from_looker(&error, "Look 7").to_string();
    assert_eq!(
        told,
        "Looker isn't answering right now. Please try again in a few minutes."
    );
    let error = LookerError::Api {
        as_person: false,
        status: 422,
        what: "POST /queries".into(),
        message: "Validation Failed: secret_table".into(),
    };
    let user = UserError::from_looker(&error, "that search");
    assert!(!user.to_string().contains("secret_table"), "{user}");
    assert!(user.detail().unwrap().contains("secret_table"));
    let job: JobError = Error::Looker { error, what: None }.into();
    assert_eq!(job.failure, Failure::Permanent);
    assert!(job.message.contains("secret_table"));
}
