// Sign-in security page: show a passkey once django-otp-webauthn has added it.
document.addEventListener("otp_webauthn.register_complete", function () {
  window.location.reload();
});
