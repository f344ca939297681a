// Copy-link button of the sign-in page in in-app browsers that cannot
// open the system browser: copies the address and says so. Without
// script the address stays in a read-only field to copy by hand.
document.addEventListener('click', function (e) {
  var b = e.target.closest && e.target.closest('[data-copy]');
  if (!b) return;
  var input = document.getElementById(b.getAttribute('data-copy'));
  if (!input) return;
  input.focus();
  input.select();
  var done = function () { b.textContent = b.getAttribute('data-done'); };
  if (navigator.clipboard && navigator.clipboard.writeText) {
    navigator.clipboard.writeText(input.value).then(done, function () {
      if (document.execCommand('copy')) done();
    });
  } else if (document.execCommand('copy')) {
    done();
  }
});
