// WebAuthn for officer pages: the only script they need. The form carries the server's
// options (JSON); the credential goes back as JSON in a hidden field, base64url-encoded.
(function () {
  var form = document.getElementById('webauthn-form');
  if (!form || !window.PublicKeyCredential) { return; }
  function toBytes(s) {
    s = s.replace(/-/g, '+').replace(/_/g, '/');
    while (s.length % 4) { s += '='; }
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { out[i] = bin.charCodeAt(i); }
    return out.buffer;
  }
  function toB64(buf) {
    var bytes = new Uint8Array(buf), bin = '';
    for (var i = 0; i < bytes.length; i++) { bin += String.fromCharCode(bytes[i]); }
    return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }
  function creds(list) {
    return (list || []).map(function (c) { return { type: c.type, id: toBytes(c.id), transports: c.transports }; });
  }
  form.addEventListener('submit', function (ev) {
    if (form.elements.credential.value) { return; }
    ev.preventDefault();
    var pk = JSON.parse(form.dataset.options).publicKey;
    pk.challenge = toBytes(pk.challenge);
    var call;
    if (form.dataset.mode === 'create') {
      pk.user.id = toBytes(pk.user.id);
      pk.excludeCredentials = creds(pk.excludeCredentials);
      call = navigator.credentials.create({ publicKey: pk }).then(function (c) {
        return { id: c.id, rawId: toB64(c.rawId), type: c.type, extensions: {},
          response: { attestationObject: toB64(c.response.attestationObject), clientDataJSON: toB64(c.response.clientDataJSON) } };
      });
    } else {
      pk.allowCredentials = creds(pk.allowCredentials);
      call = navigator.credentials.get({ publicKey: pk }).then(function (c) {
        return { id: c.id, rawId: toB64(c.rawId), type: c.type, extensions: {},
          response: { authenticatorData: toB64(c.response.authenticatorData), clientDataJSON: toB64(c.response.clientDataJSON),
            signature: toB64(c.response.signature), userHandle: c.response.userHandle ? toB64(c.response.userHandle) : null } };
      });
    }
    call.then(function (json) {
      form.elements.credential.value = JSON.stringify(json);
      form.submit();
    }).catch(function () {
      form.elements.credential.value = 'failed';
      form.submit();
    });
  });
})();
