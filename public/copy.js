// Progressive enhancement: Copy buttons for the recovery codes and the setup key. The pages work without it.
for (const button of document.querySelectorAll('[data-copy-target], [data-copy-text]')) {
  const target = button.dataset.copyTarget ? document.getElementById(button.dataset.copyTarget) : null;
  const text = () => (target ? [...target.querySelectorAll('code')].map((code) => code.textContent).join('\n') : button.dataset.copyText);
  if (!navigator.clipboard || (button.dataset.copyTarget && !target)) continue;
  button.hidden = false;
  button.addEventListener('click', async () => {
    await navigator.clipboard.writeText(text());
    button.textContent = 'Copied';
  });
}
