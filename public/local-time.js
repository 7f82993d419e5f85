// Progressive enhancement: times in the reader's own time zone. Without scripts they read in UTC.
const format = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
for (const time of document.querySelectorAll('time[datetime]')) {
  const when = new Date(time.dateTime);
  if (!Number.isNaN(when.getTime())) time.textContent = format.format(when);
}
