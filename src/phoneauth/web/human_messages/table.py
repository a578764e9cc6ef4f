"""The one table: every API error code, in a sentence for the person at the pages and one for the
admin in the console.

The API answers programs with the code and its own `message` (Logto's wording, unchanged); people
read these instead. An end-user sentence never names a setting, a provider or a status code: what
the operator must fix is the console's to say. Admin sentences may name the console's pages and
form labels, and may hold `{setting}`, `{dependents}` or `{retry_after}` (filled from `details`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Sentences:
    end_user: str
    admin: str


SMS_UNAVAILABLE = "Sign-in by text message is not available right now."
"""What end users read while the tenant cannot send a code; the console says why."""

EMAIL_UNAVAILABLE = "Sign-in by email is not available right now."
"""The email counterpart: the tenant cannot send a code by email now (no Email connector)."""

CODES_UNAVAILABLE = "Sign-in by text message or email is not available right now."
"""Both at once: neither an SMS nor an email can carry a code now."""

END_USER_FALLBACK = "Something went wrong. Please try again."
ADMIN_FALLBACK = "Something went wrong. Try again; if it keeps happening, look in the server log."

_TRY_LATER = "Too many attempts. Please wait a while and try again."
_START_AGAIN = "This sign-in has expired or was interrupted. Please start again."
_NOT_ALLOWED = "This is not possible here."
_BUSY = "The service is busy right now. Please try again in a moment."
_NOT_FOUND = "This page or item does not exist. Check the link you followed."
_INVITATION_USED = "This invitation can no longer be used. Ask for a new one."
_USERNAME_RULE = "Use only letters, digits and _ in the username, starting with a letter or _."
_PROVIDER = " Check the connector under Connectors and send a test."

MESSAGES: dict[str, Sentences] = {
    # --- the request itself -----------------------------------------------------------------
    "unknown": Sentences(
        END_USER_FALLBACK,
        "Something went wrong on the server. The server log names the cause by its correlation id.",
    ),
    "general": Sentences(END_USER_FALLBACK, ADMIN_FALLBACK),
    "guard.invalid_input": Sentences(
        "Check what you entered and try again.",
        "Some of the values are not valid. Check the form and try again.",
    ),
    "entity.not_found": Sentences(_NOT_FOUND, "This page or item does not exist."),
    "request.invalid_input": Sentences(
        "Check what you entered and try again.",
        "The request is invalid or missing information it needs: check its fields, search terms "
        "and options.",
    ),
    "request.general": Sentences(END_USER_FALLBACK, "The request could not be handled."),
    "request.method_not_allowed": Sentences(
        END_USER_FALLBACK, "This address does not accept this kind of request."
    ),
    "request.client_disconnected": Sentences(
        "The connection was interrupted. Please try again.",
        "The connection was interrupted before the form arrived. Send it again.",
    ),
    "request.body_too_large": Sentences(
        "What you sent is too large.", "What you sent is larger than the server accepts."
    ),
    # --- limits -------------------------------------------------------------------------------
    "request.rate_limited": Sentences(
        _TRY_LATER, "Too many requests. Try again in {retry_after} seconds."
    ),
    "request.message_rate_limited": Sentences(
        "Too many codes were sent to this phone number. Please wait a while and try again.",
        "Too many codes were sent to this phone number; its limit resets by itself.",
    ),
    "request.ip_rate_limited": Sentences(
        _TRY_LATER, "Too many codes were requested from this network address; wait a while."
    ),
    "request.country_rate_limited": Sentences(
        "Codes cannot be sent to this country right now. Please try again later.",
        "Too many codes were sent to this country; its limit resets by itself.",
    ),
    "verification_code.resend_too_soon": Sentences(
        "A code was sent moments ago. Please wait a little before asking for another.",
        "A code was sent to this recipient moments ago; another can be sent in {retry_after} "
        "seconds (the code policy's wait between two codes, resendCooldownSeconds).",
    ),
    # --- SMS pumping defence (issue 16) ------------------------------------------------------
    "phone_number.country_not_allowed": Sentences(
        "Codes cannot be sent by SMS to phone numbers of this country.",
        "This tenant's SMS protection does not allow phone numbers of this country.",
    ),
    "phone_number.type_not_allowed": Sentences(
        "Codes cannot be sent by SMS to this kind of phone number. Please use a mobile number.",
        "This tenant's SMS protection does not allow this type of number (see numberType).",
    ),
    "sms.prefix_rate_limited": Sentences(
        "Codes cannot be sent to this phone number right now. Please try again later.",
        "Too many codes were sent to numbers that differ from this one only in their last "
        "digits; the limit resets by itself.",
    ),
    "sms.daily_cap_reached": Sentences(
        "Codes cannot be sent right now. Please try again later.",
        "A daily SMS cap (messages, messages to one country, or estimated cost) is reached; "
        "sending resumes at midnight UTC.",
    ),
    "sms.country_suspended": Sentences(
        "Codes cannot be sent to this country right now. Please try again later.",
        "Sending SMS to this country is suspended; see Protection in the console.",
    ),
    "sms.country_not_suspended": Sentences(END_USER_FALLBACK, "This country is not suspended."),
    "sms.invalid_country": Sentences(
        END_USER_FALLBACK, "Give the country as an ISO 3166 region code, such as DE."
    ),
    "session.verification_blocked_too_many_attempts": Sentences(
        "Too many wrong codes for this phone number. Please wait a while and try again.",
        "Too many wrong codes were entered for this phone number; it is locked for a while.",
    ),
    # --- the server ---------------------------------------------------------------------------
    "server.busy": Sentences(_BUSY, "The database is busy; try again in a moment."),
    "server.unavailable": Sentences(
        _BUSY, "The database or the rate-limit counters cannot be reached; try again in a moment."
    ),
    "server.migration_failed": Sentences(
        _BUSY,
        "The database schema could not be brought up to date; the server's start-up log says "
        "why. Fix that, then start it again.",
    ),
    "server.schema_outdated": Sentences(
        _BUSY, "The database is older than this version of phoneauth: run `phoneauth migrate`."
    ),
    "server.secret_key_mismatch": Sentences(
        END_USER_FALLBACK,
        "Stored secrets cannot be read: PHONEAUTH_SECRET_KEY changed or is wrong. Start the "
        "server with the key the data was saved with.",
    ),
    # --- delivery reports: read by providers' servers; the admin sentence explains -----------
    "delivery_report.general": Sentences(
        END_USER_FALLBACK, "A delivery report was refused and changed nothing."
    ),
    "delivery_report.invalid_signature": Sentences(
        END_USER_FALLBACK,
        "A delivery report's signature is missing or wrong, so it was ignored. Check the "
        "connector's secret (Auth Token, signature secret or webhook token) under Connectors.",
    ),
    "delivery_report.invalid_body": Sentences(
        END_USER_FALLBACK, "A delivery report could not be read as the provider's report."
    ),
    "delivery_report.not_supported": Sentences(
        END_USER_FALLBACK,
        "This connector takes no delivery reports: its provider sends none, or the secret "
        "that checks them is not set under Connectors.",
    ),
    "delivery_report.unknown_message": Sentences(
        END_USER_FALLBACK, "A delivery report named a message this connector never sent."
    ),
    "delivery_report.outdated": Sentences(
        END_USER_FALLBACK,
        "A delivery report repeated a status the message already had, or an earlier one.",
    ),
    # --- sending the SMS: the end user learns only that no code can be sent -------------------
    "connector.general": Sentences(
        SMS_UNAVAILABLE, "The SMS provider could not deliver the message." + _PROVIDER
    ),
    "connector.not_found": Sentences(
        SMS_UNAVAILABLE, "This tenant has no SMS connector: set one up under Connectors."
    ),
    "connector.not_found_with_connector_id": Sentences(
        SMS_UNAVAILABLE, "This SMS provider is not installed on the server."
    ),
    "connector.invalid_request_parameters": Sentences(
        "Text messages cannot be sent to this phone number. Check the number and try again.",
        "The SMS provider refused the message, most often because of the phone number.",
    ),
    "connector.insufficient_request_parameters": Sentences(
        SMS_UNAVAILABLE,
        "The SMS template needs a value the message does not have. Check the templates.",
    ),
    "connector.invalid_config": Sentences(
        SMS_UNAVAILABLE, "Some connector settings are not valid."
    ),
    "connector.destination_forbidden": Sentences(
        SMS_UNAVAILABLE,
        "The connector's address points to a private or local network; connectors send only "
        "to public addresses. Enter the provider's public address.",
    ),
    "connector.invalid_certificate": Sentences(
        SMS_UNAVAILABLE, "The SMS provider's certificate could not be verified." + _PROVIDER
    ),
    "connector.invalid_response": Sentences(
        SMS_UNAVAILABLE,
        "The SMS provider answered with an error or something phoneauth does not understand."
        + _PROVIDER,
    ),
    "connector.template_not_found": Sentences(
        SMS_UNAVAILABLE,
        "No SMS template fits this message, and there is no Generic template to fall back "
        "to. Add a Generic template under Connectors.",
    ),
    "connector.template_not_supported": Sentences(
        SMS_UNAVAILABLE, "The SMS provider does not support this template."
    ),
    "connector.rate_limit_exceeded": Sentences(
        "Text messages cannot be sent right now. Please try again in a few minutes.",
        "The SMS provider is throttling the messages. Try again later, or ask the provider "
        "for a higher limit.",
    ),
    "connector.usage_limit_exceeded": Sentences(
        SMS_UNAVAILABLE,
        "The SMS provider account has no balance or quota left. Top it up with the provider.",
    ),
    "connector.not_implemented": Sentences(SMS_UNAVAILABLE, "This SMS connector cannot do that."),
    "connector.authorization_failed": Sentences(
        SMS_UNAVAILABLE,
        "The SMS provider refused the connector's credentials. Check the account and the "
        "secret under Connectors.",
    ),
    "connector.timeout": Sentences(
        "We could not confirm that the text message was sent. If no code arrives within a "
        "minute, please try again.",
        "The SMS provider did not answer in time; the message may or may not have been sent.",
    ),
    "connector.unreachable": Sentences(
        SMS_UNAVAILABLE,
        "The SMS provider cannot be reached from the server (name lookup, connection or "
        "TLS failed). Check the address and the server's network.",
    ),
    "connector.unexpected_type": Sentences(
        SMS_UNAVAILABLE,
        "This connector sends another kind of message: an SMS connector needs a phone number, "
        "an email connector an email address.",
    ),
    "connector.invalid_metadata": Sentences(
        SMS_UNAVAILABLE, "An installed connector package is broken: its metadata is invalid."
    ),
    "connector.invalid_config_guard": Sentences(
        SMS_UNAVAILABLE, "An installed connector package is broken: it has no settings form."
    ),
    "connector.more_than_one_connector_factory": Sentences(
        SMS_UNAVAILABLE, "Two installed connector packages claim the same provider id."
    ),
    "connector.conflict": Sentences(
        END_USER_FALLBACK,
        "Someone else changed this tenant's connectors at the same moment. Load the page "
        "again and repeat your change.",
    ),
    "sms_routing.invalid_rules": Sentences(
        END_USER_FALLBACK,
        "The delivery rules could not be saved: one of the values is out of range or "
        "malformed. Check the deadline and the circuit breaker settings.",
    ),
    "sms_routing.unknown_connector": Sentences(
        END_USER_FALLBACK,
        "A delivery rule names a standby connector that does not exist (any more). Load the "
        "page again and choose among the listed connectors.",
    ),
    "sms_routing.invalid_country": Sentences(
        END_USER_FALLBACK,
        "A route names a country that is unknown. Use two-letter country codes such as DE or HK.",
    ),
    "sms_routing.duplicate_country": Sentences(
        END_USER_FALLBACK,
        "A country can be in one route only. Remove it from the other route.",
    ),
    "sms_routing.connector_not_found": Sentences(
        _NOT_FOUND, "This standby connector does not exist (any more). Load the page again."
    ),
    "sms_routing.connector_in_use": Sentences(
        END_USER_FALLBACK,
        "A delivery rule still uses this standby connector. Remove it from the routes and "
        "the fallback order first.",
    ),
    "sms_routing.too_many_connectors": Sentences(
        _NOT_ALLOWED, "This tenant has as many standby connectors as it may have."
    ),
    "connector.development_only": Sentences(
        _NOT_ALLOWED,
        "The development outbox is for development tenants only; a production tenant needs "
        "a real SMS provider.",
    ),
    "connector.in_use_by_sign_in_experience": Sentences(
        END_USER_FALLBACK,
        "The sign-in experience still needs this SMS connector: {dependents}. Change the "
        "sign-in experience first, or delete anyway.",
    ),
    "connector.cannot_overwrite_metadata_for_non_standard_connector": Sentences(
        _NOT_ALLOWED, "The name and logo of an SMS connector cannot be changed."
    ),
    "connector.invalid_type_for_syncing_profile": Sentences(
        _NOT_ALLOWED, "Only social connectors sync profiles; SMS connectors do not."
    ),
    # --- verification codes -------------------------------------------------------------------
    "verification_code.general": Sentences(
        "The code was not accepted. Please request a new one.", "The code was not accepted."
    ),
    "verification_code.not_found": Sentences(
        "No code is waiting for this phone number. Please request a new one.",
        "No code is waiting for this phone number.",
    ),
    "verification_code.expired": Sentences(
        "The code has expired. Please request a new one.", "The code has expired."
    ),
    "verification_code.exceed_max_try": Sentences(
        "Too many wrong tries for this code. Please request a new one.",
        "Too many wrong tries for this code.",
    ),
    "verification_code.code_mismatch": Sentences(
        "The code is wrong. Check the text message and try again.", "The code is wrong."
    ),
    "verification_code.phone_mismatch": Sentences(
        "The code was sent to a different phone number. Please start again.",
        "The code was sent to a different phone number.",
    ),
    "verification_code.email_mismatch": Sentences(
        "The code was sent to a different email address. Please start again.",
        "The code was sent to a different email address.",
    ),
    "verification_record.not_found": Sentences(
        "This confirmation has expired or does not match. Please ask for a new code.",
        "The verification does not exist or has expired.",
    ),
    "verification_record.permission_denied": Sentences(
        "Please confirm it is you first.", "The user must verify their identity first."
    ),
    "phone_number.invalid": Sentences(
        "Enter a valid phone number, starting with + and the country code.",
        "This is not a valid phone number: give it with + and the country code.",
    ),
    # --- the sign-in interaction ----------------------------------------------------------------
    "session.not_found": Sentences(_START_AGAIN, _START_AGAIN),
    "session.interaction_conflict": Sentences(
        "Something changed at the same moment. Please repeat the last step.",
        "Another request changed this sign-in at the same moment.",
    ),
    "session.verification_session_not_found": Sentences(_START_AGAIN, _START_AGAIN),
    "session.email_blocklist.invalid_email": Sentences(
        "Enter a valid email address.", "The email address has no domain."
    ),
    "session.email_blocklist.email_subaddressing_not_allowed": Sentences(
        "Addresses with a + tag cannot be used here. Use the address without it.",
        "This tenant blocks email subaddressing (name+tag@example.com).",
    ),
    "session.email_blocklist.email_not_allowed": Sentences(
        "This email address cannot be used here. Please use a different one.",
        "The address or its domain is in the tenant's email blocklist.",
    ),
    "session.verification_failed": Sentences(
        "The verification did not succeed. Please start again.",
        "The verification did not succeed.",
    ),
    "session.invalid_interaction_type": Sentences(_START_AGAIN, _START_AGAIN),
    "session.identifier_not_found": Sentences(_START_AGAIN, _START_AGAIN),
    "session.identity_conflict": Sentences(
        "This sign-in already belongs to another account. Please start again.",
        "This sign-in already identified another user.",
    ),
    "session.invalid_credentials": Sentences(
        "The phone number or the password is wrong.", "The phone number or password is wrong."
    ),
    "session.not_supported_for_forgot_password": Sentences(
        "To reset your password, confirm your phone number with a code.",
        "A password reset identifies the user by a code sent by SMS only.",
    ),
    "session.forgot_password_not_enabled": Sentences(
        "Passwords cannot be reset here. Please contact the service's support.",
        "Password reset by SMS is turned off in the sign-in experience.",
    ),
    "session.mfa.require_mfa_verification": Sentences(
        "Enter the code we sent to your phone to finish signing in.",
        "The user must confirm a second factor.",
    ),
    "session.mfa.mfa_factor_not_enabled": Sentences(
        "Two-step verification by text message is not available for this account.",
        "Two-step verification by SMS is not enabled, or the account has no phone number.",
    ),
    "auth.forbidden": Sentences(
        "This is not possible here: sign-in or registration is turned off.",
        "Not allowed: this key, application or account may not do this here.",
    ),
    "auth.unauthorized": Sentences(
        "Please sign in first.",
        "Sign in first: the session, the key or the access token is missing, invalid or expired.",
    ),
    "metrics.disabled": Sentences(
        _NOT_FOUND,
        "Metrics are turned off on this server: set PHONEAUTH_METRICS_TOKEN to a long random "
        "token and restart it, then scrape /metrics with that token as the Bearer token.",
    ),
    # --- OpenID Connect -------------------------------------------------------------------------
    "oidc.invalid_token": Sentences(
        "Please sign in again.",
        "The access token is missing, expired, revoked or not meant for this endpoint.",
    ),
    "oidc.authorization_request_not_found": Sentences(
        "This sign-in has expired. Go back to the app and start again.",
        "The authorization request expired (after an hour) or was already used.",
    ),
    "oidc.invalid_post_logout_redirect_uri": Sentences(
        "You could not be signed out here. Go back to the app and sign out again.",
        "The sign-out request names a post_logout_redirect_uri the application did not register.",
    ),
    "resource.resource_identifier_in_use": Sentences(
        _NOT_ALLOWED, "Another API resource of this tenant has this API identifier already."
    ),
    "resource.cannot_modify_management_api": Sentences(
        _NOT_ALLOWED, "The Management API resource is built in: it cannot be changed."
    ),
    "resource.cannot_delete_management_api": Sentences(
        _NOT_ALLOWED, "The Management API resource is built in: it cannot be deleted."
    ),
    # --- users ----------------------------------------------------------------------------------
    "user.user_not_exist": Sentences(
        "There is no account with this phone number.", "This user does not exist."
    ),
    "user.phone_already_in_use": Sentences(
        "This phone number already belongs to an account. Sign in instead.",
        "This phone number already belongs to another user.",
    ),
    "user.username_already_in_use": Sentences(
        "This username is taken. Choose another one.",
        "This username already belongs to another user.",
    ),
    "user.email_already_in_use": Sentences(
        "This email address already belongs to an account. Sign in instead.",
        "This email address already belongs to another user.",
    ),
    "user.suspended": Sentences(
        "This account is suspended. Contact the service's support.",
        "This user is suspended: lift the suspension to let them sign in again.",
    ),
    "user.sign_in_method_not_enabled": Sentences(
        "This way of signing in is not available here.",
        "This sign-in method is turned off in the sign-in experience.",
    ),
    "user.phone_exists_in_profile": Sentences(
        "Your account already has a phone number.", "The account already has a phone number."
    ),
    "user.email_exists_in_profile": Sentences(
        "Your account already has an email address.", "The account already has an email address."
    ),
    "user.username_exists_in_profile": Sentences(
        "Your account already has a username.", "The account already has a username."
    ),
    "user.last_sign_in_method_required": Sentences(
        "This cannot be removed: you would have no way left to sign in.",
        "The user would have no identifier left to sign in with.",
    ),
    "user.password_exists_in_profile": Sentences(
        "Your account already has a password.", "The account already has a password."
    ),
    "user.missing_profile": Sentences(
        "Please complete your account to continue.",
        "The sign-in experience asks for more than the user gave.",
    ),
    "user.new_password_required_in_profile": Sentences(
        "Please choose a new password first.", "The user must set a new password first."
    ),
    "user.missing_mfa": Sentences(
        "Two-step verification is required: add a phone number to your account first.",
        "The sign-in experience requires a second factor the account does not have.",
    ),
    "user.phone_required": Sentences(
        "Your phone number cannot be removed: it is how you sign in here.",
        "The phone number is the sign-up identifier of this tenant; it cannot be removed.",
    ),
    "user.no_sign_in_method_left": Sentences(
        "Your phone number cannot be removed: you would have no way left to sign in.",
        "Removing the phone number would leave the account no way to sign in.",
    ),
    "password.rejected": Sentences(
        "This password does not meet the requirements. Choose another one.",
        "The password does not meet the password policy of the sign-in experience.",
    ),
    "user.sign_up_method_not_enabled": Sentences(
        _NOT_ALLOWED, "This identifier is not a sign-up identifier of the sign-in experience."
    ),
    "user.username_invalid": Sentences(
        _USERNAME_RULE, "The username does not meet the username policy."
    ),
    "user.username_required": Sentences("Enter a username.", "A username is required."),
    "user.username_starts_with_number": Sentences(
        "A username cannot start with a digit.", "A username cannot start with a digit."
    ),
    "user.username_invalid_charset_hard": Sentences(_USERNAME_RULE, _USERNAME_RULE),
    "user.username_too_short": Sentences(
        "This username is too short.", "The username is shorter than the username policy allows."
    ),
    "user.username_too_long": Sentences(
        "This username is too long.", "The username is longer than the username policy allows."
    ),
    "user.username_uppercase_not_allowed": Sentences(
        "Use no capital letters in the username.", "The username policy allows no capitals."
    ),
    "user.username_lowercase_not_allowed": Sentences(
        "Use no small letters in the username.", "The username policy allows no small letters."
    ),
    "user.username_numbers_not_allowed": Sentences(
        "Use no digits in the username.", "The username policy allows no digits."
    ),
    "user.username_underscore_not_allowed": Sentences(
        "Use no underscore in the username.", "The username policy allows no underscore."
    ),
    # --- account center -------------------------------------------------------------------------
    "account_center.not_enabled": Sentences(
        "Account settings cannot be changed here.",
        "The account center is off: enable it (PATCH /api/account-center) to let users change "
        "their account.",
    ),
    "account_center.field_not_editable": Sentences(
        "This part of your account cannot be changed here.",
        "The account center does not allow users to change this field.",
    ),
    "user.same_password": Sentences(
        "This is your current password. Choose a different one.",
        "The new password is the same as the current one.",
    ),
    # --- organizations --------------------------------------------------------------------------
    "entity.not_exists_with_id": Sentences(
        _NOT_FOUND,
        "This item (organization, invitation, application, role or API resource) does not exist.",
    ),
    "entity.unique_integrity_violation": Sentences(
        "An invitation for this phone number is already waiting.",
        "A pending invitation for this phone number exists already: resend it instead.",
    ),
    "organization_invitation.not_pending": Sentences(
        _INVITATION_USED, "The invitation can no longer be used."
    ),
    "organization_invitation.already_accepted": Sentences(
        "This invitation has already been accepted.", "The invitation was accepted already."
    ),
    "organization_invitation.revoked": Sentences(
        "This invitation has been withdrawn.", "The invitation was revoked."
    ),
    "organization_invitation.expired": Sentences(
        "This invitation has expired. Ask for a new one.", "The invitation has expired."
    ),
    "organization_invitation.invalid_expiration": Sentences(
        END_USER_FALLBACK, "The expiry date must lie in the future."
    ),
    "organization_invitation.invitee_already_member": Sentences(
        "You are already a member of this organization.",
        "The invitee is a member of the organization already.",
    ),
    # --- applications (console only: end users never reach these) ------------------------------
    "application.secret_name_exists": Sentences(
        END_USER_FALLBACK, "This application has a secret with this name already: pick another."
    ),
    "application.secret_not_allowed": Sentences(
        END_USER_FALLBACK,
        "Native and single-page apps have no secrets: they are public clients and prove "
        "themselves with PKCE instead.",
    ),
    "application.invalid_type": Sentences(
        END_USER_FALLBACK, "Only machine-to-machine applications can hold roles."
    ),
    "application.invalid_third_party_application_type": Sentences(
        END_USER_FALLBACK, "A machine-to-machine application cannot be a third-party app."
    ),
    "application.device_flow_native_only": Sentences(
        END_USER_FALLBACK, "Only native applications can use the device flow."
    ),
    "application.saml.use_saml_app_api": Sentences(
        END_USER_FALLBACK, "SAML applications are not available in phoneauth: choose another type."
    ),
    "application.protected_app_metadata_is_required": Sentences(
        END_USER_FALLBACK, "Protected apps are not available in phoneauth: choose another type."
    ),
    "application.protected_app_not_configured": Sentences(
        END_USER_FALLBACK, "Protected apps are not available in phoneauth: choose another type."
    ),
    # --- tenants ---------------------------------------------------------------------------------
    "tenant.not_found": Sentences(
        "There is no sign-in page at this address. Check the link you followed.",
        "This tenant does not exist.",
    ),
    "tenant.already_exists": Sentences(_NOT_ALLOWED, "A tenant with this id exists already."),
    "tenant.development_connector_in_use": Sentences(
        _NOT_ALLOWED,
        "A production tenant cannot send codes through the development outbox. Change the "
        "SMS connector to a real provider under Connectors first.",
    ),
    "tenant.invalid_export": Sentences(
        END_USER_FALLBACK, "This is not a phoneauth tenant export, or it is damaged."
    ),
    # --- the sign-in experience's rules (console only) ------------------------------------------
    "sign_in_experiences.invalid": Sentences(
        _NOT_ALLOWED, "These sign-in settings do not fit together."
    ),
    "sign_in_experiences.enabled_connector_not_found": Sentences(
        _NOT_ALLOWED,
        "{setting}: this needs an SMS connector to send the codes. Set one up under "
        "Connectors first, or change this setting.",
    ),
    "sign_in_experiences.forgot_password_method_requires_connector": Sentences(
        _NOT_ALLOWED,
        "Password reset by code needs a connector that sends the codes. Set up an SMS "
        "connector under Connectors first.",
    ),
    "sign_in_experiences.missing_sign_up_identifiers": Sentences(
        _NOT_ALLOWED, "Choose a sign-up identifier before adding more to it."
    ),
    "sign_in_experiences.duplicated_sign_up_identifiers": Sentences(
        _NOT_ALLOWED, "Sign-up asks for the same identifier twice. Keep it once."
    ),
    "sign_in_experiences.passwordless_requires_verify": Sentences(
        _NOT_ALLOWED,
        "Sign-up by phone number or email needs “Verification required”: tick it, or choose "
        "Username as the sign-up identifier.",
    ),
    "sign_in_experiences.miss_sign_up_identifier_in_sign_in": Sentences(
        _NOT_ALLOWED,
        "People who sign up with an identifier must be able to sign in with it: add a "
        "sign-in method for the sign-up identifier.",
    ),
    "sign_in_experiences.at_least_one_authentication_factor": Sentences(
        _NOT_ALLOWED,
        "Each sign-in method needs “Password” or “Verification code” ticked (at least one "
        "authentication factor).",
    ),
    "sign_in_experiences.code_sign_in_must_be_enabled": Sentences(
        _NOT_ALLOWED,
        "New users create no password, so they can only sign in with a code: tick "
        "“Verification code” on every sign-in method, or tick “New users also create a "
        "password”.",
    ),
    "sign_in_experiences.email_verification_code_cannot_be_used_for_sign_in": Sentences(
        _NOT_ALLOWED,
        "A code by email is the second factor already, so it cannot also be a sign-in method.",
    ),
    "sign_in_experiences.email_verification_code_cannot_be_used_for_mfa": Sentences(
        _NOT_ALLOWED,
        "People sign in with a code by email already, so it cannot also be the second factor.",
    ),
    "sign_in_experiences.invalid_custom_email_blocklist_format": Sentences(
        _NOT_ALLOWED,
        "Each blocked entry must be an email address (jane@example.com) or a domain written "
        "with @ (@example.com).",
    ),
    "sign_in_experiences.phone_verification_code_cannot_be_used_for_sign_in": Sentences(
        _NOT_ALLOWED,
        "A code by SMS is the second factor already, so it cannot also be a sign-in method.",
    ),
    "sign_in_experiences.phone_verification_code_cannot_be_used_for_mfa": Sentences(
        _NOT_ALLOWED,
        "People sign in with a code by SMS already, so it cannot also be the second factor.",
    ),
    "sign_in_experiences.duplicated_mfa_factors": Sentences(
        _NOT_ALLOWED, "Each second factor can be listed once only."
    ),
    "sign_in_experiences.backup_code_cannot_be_enabled_alone": Sentences(
        _NOT_ALLOWED, "Backup codes work only together with another second factor."
    ),
    "sign_in_experiences.adaptive_mfa_requires_mfa": Sentences(
        _NOT_ALLOWED, "Adaptive two-step verification needs at least one second factor."
    ),
    "sign_in_experiences.adaptive_mfa_requires_non_skippable_policy": Sentences(
        _NOT_ALLOWED,
        "Adaptive two-step verification needs a prompt that users cannot skip "
        "(PromptAtSignInAndSignUpMandatory or PromptOnlyAtSignInMandatory).",
    ),
    "sign_in_experiences.non_adaptive_mfa_requires_skippable_policy": Sentences(
        _NOT_ALLOWED,
        "This two-step verification policy works only with adaptive two-step verification on.",
    ),
    # --- the console ---------------------------------------------------------------------------
    "console.invalid_username": Sentences(
        _NOT_ALLOWED, "Use 3 to 64 letters, digits or . _ @ - for the username."
    ),
    "console.invalid_credentials": Sentences(_NOT_ALLOWED, "The username or password is wrong."),
    "console.too_many_attempts": Sentences(
        _TRY_LATER,
        "Too many wrong passwords for this username; wait a few minutes and try again.",
    ),
    "console.not_signed_in": Sentences(
        _NOT_ALLOWED, "Sign in to the console first; the session is missing or has expired."
    ),
    "console.csrf": Sentences(
        _NOT_ALLOWED,
        "This form did not come from this console session, or the page is too old: reload "
        "the page and try again.",
    ),
    "console.foreign_origin": Sentences(
        _NOT_ALLOWED,
        "This form was sent from another site, so the console refused it. Open the console "
        "at its own address and send the form from there.",
    ),
    "console.invalid_setup_token": Sentences(
        _NOT_ALLOWED,
        "The setup token is missing or wrong. Copy it from the server's output of its first "
        "start, or print a new one on the server with `phoneauth admin setup-token`.",
    ),
    "console.admin_exists": Sentences(
        _NOT_ALLOWED, "The console admin account already exists; sign in instead."
    ),
}
"""Code → sentences. `tests/web/test_human_messages.py` fails for a code raised without one."""

END_USER_BY_KIND: dict[tuple[str, str], str] = {
    ("connector.", "email"): EMAIL_UNAVAILABLE,
    ("session.invalid_credentials", "email"): "The email address or the password is wrong.",
    ("session.invalid_credentials", "username"): "The username or the password is wrong.",
    ("user.user_not_exist", "email"): "There is no account with this email address.",
    ("user.user_not_exist", "username"): "There is no account with this username.",
    ("verification_code.not_found", "email"): (
        "No code is waiting for this email address. Please request a new one."
    ),
    ("verification_code.code_mismatch", "email"): (
        "The code is wrong. Check the email and try again."
    ),
    ("verification_record.not_found", "email"): (
        "This confirmation has expired. Please verify your email address again."
    ),
    ("session.not_supported_for_forgot_password", "email"): (
        "To reset your password, confirm your email address with a code."
    ),
}
"""(code, the kind of identifier the page sent: `email` or `username`) → the end user's sentence
where the code's own one speaks of a phone number; `connector.` stands for every connector code.
"""

ADMIN_VARIANTS: dict[tuple[str, str], str] = {
    ("sign_in_experiences.enabled_connector_not_found", "Email"): (
        "{setting}: this needs an Email connector to send the codes. Set one up under "
        "Connectors first, or change this setting."
    ),
    ("sign_in_experiences.forgot_password_method_requires_connector", "email"): (
        "Password reset by a code sent by email needs an Email connector. Set one up under "
        "Connectors first, or untick it."
    ),
    ("sign_in_experiences.forgot_password_method_requires_connector", "sms"): (
        "Password reset by a code sent by SMS needs an SMS connector. Set one up under "
        "Connectors first, or untick it."
    ),
}
"""(code, `details.type` or `details.method`) → the admin sentence where one sentence for the
code would say the wrong thing."""

ADMIN_NAMED: dict[str, tuple[str, str]] = {
    "entity.not_found": (
        "factory_id",
        "No SMS provider with the id “{value}” is installed on this server.",
    ),
    "tenant.not_found": ("tenant_id", "There is no tenant with the id “{value}”."),
    "connector.not_found": (
        "connector_id",
        "There is no connector with the id “{value}” in this tenant.",
    ),
}
"""code → (a `details` key, the admin sentence naming its value) for when `details` has it."""
