// Package sie writes vouchers as SIE 4I import files and reads SIE 4 files
// (types 4I and 4E) back into vouchers and an account plan.
//
// SIE ("Standard Import och Export", spec "SIE filformat – Utgåva 4B",
// sie.se) is how Swedish bookkeeping systems exchange data. Type 4I holds
// only vouchers ("verifikationer") for another system to import: reconcile
// books payouts, fees and sales as commerce.Voucher values, and this
// package turns them into a file that Fortnox, Specter, Visma/Spiris, Bokio
// and the others import.
//
// # Writing
//
//	w := sie.NewWriter(sie.BAS2026(), sie.WithDefaultSeries("K"))
//	rep, err := w.Write(out, sie.Header{
//		Program:   "knyt", Version: "1.0",
//		Generated: commerce.NewDate(2026, 11, 22), // the caller's date, never the clock
//		Company:   "Exempel AB", OrgNumber: "556677-8899",
//	}, vouchers)
//
// The file has #FLAGGA 0 first, then #PROGRAM, #FORMAT PC8, #GEN (date and
// optional signature), #SIETYP 4, #ORGNR (optional), #FNAMN, #RAR
// (optional), #VALUTA (only for books not in SEK), one #KONTO per account
// the vouchers use, #DIM/#UNDERDIM and #OBJEKT for the dimensions and
// objects they use, and each voucher as
//
//	#VER "series" "" 20261115 "Klarna utbetalning 2026-11-15"
//	{
//	#TRANS 1930 {} 1218.75
//	#TRANS 1686 {1 "WEB1"} -1218.75 "" "row text"
//	}
//
// A voucher without a Number is written with an empty number, for the
// importing system to number. #TRANS carries the account, the object list
// ({dimension "object" ...}), the amount with two decimals and a dot, and,
// when the posting has them, an empty transaction date (the voucher's date),
// the row text and the quantity.
//
// Nothing unsafe is ever written. Every voucher is checked first, and if one
// does not balance to exactly 0.00, is in another currency than the books,
// has an amount with more than two decimals, a non-numeric account, an
// object the file cannot hold, or uses an account missing from the plan
// (unless AllowMissingAccounts), Write writes nothing and returns every
// problem at once.
//
// Output is deterministic byte for byte: vouchers and their rows in the
// order given, #KONTO in account number order, #DIM by number, #OBJEKT by
// dimension and code, the #GEN date from the caller.
//
// Format details: fields are separated by one space. Texts, names, series
// and object codes are always quoted; numbers, dates, #FLAGGA, #FORMAT,
// #SIETYP and #ORGNR never are (Fortnox fails on quoted #FLAGGA, #SIETYP,
// #ORGNR and #FORMAT values). A quote inside a text is written \" as
// SIE 4B prescribes; a backslash is written \\ only before a quote, before
// another backslash or at the end of a text, where a reader would
// otherwise misread it, and as itself everywhere else. Lines end with CRLF
// (WithLineEnding(LF) for bare LF): SIE files come from the PC world of code
// page 437 and the producers the reference surveyed write CRLF. The
// reference gives no verbatim rule from the spec on line endings; this
// choice is the reference's "CRLF line ends are usual".
//
// # Text: code page 437 and the 50-character limit
//
// #FORMAT PC8 means IBM code page 437, which has åäöÅÄÖ, é, ü, ß and the
// other western European letters but not ø, €, typographic quotes or
// emoji. Free texts (voucher and row texts, names) are converted by this
// rule, and every change is reported as a Notice of kind NoticeReplaced —
// there is never mojibake:
//
//  1. Unicode normal form C first (a decomposed "a" + ring becomes "å").
//  2. Tabs, line breaks, control characters and Unicode spaces become a
//     space.
//  3. Characters code page 437 has are kept.
//  4. Invisible characters are dropped: left-over combining marks, format
//     characters (zero-width joiner, soft hyphen, byte order mark) and
//     emoji skin-tone modifiers.
//  5. A few characters have a fixed stand-in: ø → ö, Ø → Ö, € → EUR,
//     ‘ ’ → ', “ ” „ → ", – — → -, … → ..., • → *, œ → oe, ł → l, þ → th
//     and similar.
//  6. Otherwise the compatibility decomposition without accents is used
//     when code page 437 has it: š → s, Ž → Z, ő → o, ™ → TM.
//  7. Anything else (emoji, CJK, most symbols) becomes '?'.
//
// Identifiers (series and object codes) are never rewritten, since that
// would book to another series or object: one that code page 437 cannot
// encode is an error.
//
// Voucher and row texts are then limited to 50 characters
// (DefaultMaxTextLen, because Fortnox rejects longer ones; WithMaxTextLen
// changes it, 0 lifts it): a longer text is cut after the 50th character,
// trailing spaces removed, and a NoticeTruncated reports the original.
// Company, account, dimension and object names are not cut.
//
// # Reading
//
//	f, err := sie.Read(r)
//	// f.Vouchers, f.Accounts (an AccountPlan), f.Dimensions, f.Objects, f.Balances
//
// Read accepts what SIE 4 exporters write: CRLF, LF or CR line ends,
// fields separated by spaces or tabs, quoted or bare fields, indented rows,
// the DOS end-of-file byte, a block "{" on the #VER line or the next. It
// decodes code page 437 unless the file starts with a UTF-8 byte order mark
// or says "#FORMAT UTF8" (WithCharset overrides, for producers that write
// Windows-1252). It reads #FLAGGA, #PROGRAM, #FORMAT, #GEN, #SIETYP, #FNAMN,
// #ORGNR, #RAR, #VALUTA, #KONTO, #KTYP, #SRU, #DIM, #UNDERDIM, #OBJEKT,
// #IB, #UB, #RES, #OIB, #OUB and #VER with #TRANS, #RTRANS and #BTRANS;
// it skips #ADRESS, #BKOD, #ENHET, #FNR, #FTYP, #KPTYP, #KSUMMA (the
// checksum is not verified), #OMFATTN, #PBUDGET, #PROSA, #PSALDO and
// #TAXAR. Unknown records are skipped, as SIE requires of readers, and
// reported as notices. An #RTRANS row (added after registration) counts,
// and the identical #TRANS that follows it for older readers is not
// counted again; a #BTRANS row (removed) is left out and reported. Read
// vouchers get an ID from their series and number ("A/12"), or "#n" for
// the n-th voucher when the file leaves the number empty. A row's own
// transaction date has no place in commerce.Posting; when it differs from
// the voucher's date that is reported.
//
// Malformed input is a *SyntaxError with the line number (errors.Is
// ErrMalformed); a voucher that does not balance is one too, wrapping the
// *commerce.UnbalancedError. Read never panics on any input (FuzzRead).
//
// # Account plans
//
// AccountPlan maps account numbers to names (and #KTYP/#SRU when read from
// a file). BAS2026 returns the BAS 2026 accounts of e-commerce
// reconciliation with the names from the project reference; a merchant's
// own chart comes from Read of an SIE export of their books, and both are
// plain maps to adjust.
package sie
