// Progressive enhancement: a Copy button for the recovery codes. The page works without it.
for (const button of document.querySelectorAll('[data-copy-target]')) {
  const target = document.getElementById(button.dataset.copyTarget);
  if (!target || !navigator.clipboard) continue;
  button.hidden = false;
  button.addEventListener('click', async () => {
    const codes = [...target.querySelectorAll('code')].map((code) => code.textContent).join('\n');
    await navigator.clipboard.writeText(codes);
    button.textContent = 'Copied';
  });
}
