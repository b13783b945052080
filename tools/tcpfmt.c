/* TCP flags as text (tools/tcpfmt.h). */
#include <stdio.h>

#include "synack/synack.h"
#include "tcpfmt.h"

/* Letters in packetdrill's order, ACK last as '.': "S.", "F.", "SEW". */
static char *letters(unsigned f, char *buf, size_t n)
{
	static const struct {
		unsigned bit;
		char c;
	} order[] = {{SYNACK_TCP_SYN, 'S'}, {SYNACK_TCP_FIN, 'F'}, {SYNACK_TCP_RST, 'R'},
		     {SYNACK_TCP_PSH, 'P'}, {SYNACK_TCP_URG, 'U'}, {SYNACK_TCP_ECE, 'E'},
		     {SYNACK_TCP_CWR, 'W'}, {SYNACK_TCP_ACK, '.'}};
	char text[TCPFMT_LETTERS_MAX];
	size_t k = 0;
	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
		if (f & order[i].bit)
			text[k++] = order[i].c;
	if (!k)
		text[k++] = '-';
	text[k] = '\0';
	snprintf(buf, n, "%s", text);
	return buf;
}

/* Names joined by commas, SYN and ACK together as "SYN-ACK". */
static char *words(unsigned f, char *buf, size_t n)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {
	    {SYNACK_TCP_SYN, "SYN"}, {SYNACK_TCP_RST, "RST"}, {SYNACK_TCP_FIN, "FIN"},
	    {SYNACK_TCP_PSH, "PSH"}, {SYNACK_TCP_ACK, "ACK"}, {SYNACK_TCP_URG, "URG"},
	    {SYNACK_TCP_ECE, "ECE"}, {SYNACK_TCP_CWR, "CWR"},
	};
	const unsigned synack = SYNACK_TCP_SYN | SYNACK_TCP_ACK;
	char text[TCPFMT_WORDS_MAX];
	size_t used = 0;
	text[0] = '\0';
	if ((f & synack) == synack) {
		used = (size_t)snprintf(text, sizeof text, "SYN-ACK");
		f &= ~synack;
	}
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (f & names[i].bit)
			used += (size_t)snprintf(text + used, sizeof text - used, "%s%s", used ? "," : "",
						 names[i].name);
	snprintf(buf, n, "%s", text[0] ? text : "(no flags)");
	return buf;
}

char *tcpfmt_flags(unsigned flags, enum tcpfmt_style style, char *buf, size_t n)
{
	if (n == 0)
		return buf;
	return style == TCPFMT_LETTERS ? letters(flags & 0xff, buf, n) : words(flags & 0xff, buf, n);
}
