/* Datatypes: nft's numbering (a set's key type carries it), byte order, size, symbolic
 * constants, and how values are read from rule text and printed back. */
#define _GNU_SOURCE
#include "nftrule/nr_int.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <grp.h>
#include <netdb.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S(n, v) {n, v}
#define END {NULL, 0}

static const struct nr_sym nfproto_syms[] = {S("ipv4", 2), S("ipv6", 10), END};
static const struct nr_sym ethertype_syms[] = {
  S("ip", 0x0800), S("arp", 0x0806), S("ip6", 0x86dd), S("8021q", 0x8100), S("8021ad", 0x88a8),
  S("vlan", 0x8100), END};
static const struct nr_sym arpop_syms[] = {
  S("request", 1), S("reply", 2), S("rrequest", 3), S("rreply", 4), S("inrequest", 8),
  S("inreply", 9), S("nak", 10), END};
static const struct nr_sym icmp_type_syms[] = {
  S("echo-reply", 0), S("destination-unreachable", 3), S("source-quench", 4), S("redirect", 5),
  S("echo-request", 8), S("router-advertisement", 9), S("router-solicitation", 10),
  S("time-exceeded", 11), S("parameter-problem", 12), S("timestamp-request", 13),
  S("timestamp-reply", 14), S("info-request", 15), S("info-reply", 16),
  S("address-mask-request", 17), S("address-mask-reply", 18), END};
static const struct nr_sym tcp_flag_syms[] = {
  S("fin", 1), S("syn", 2), S("rst", 4), S("psh", 8), S("ack", 0x10), S("urg", 0x20),
  S("ecn", 0x40), S("cwr", 0x80), END};
static const struct nr_sym dccp_syms[] = {
  S("request", 0), S("response", 1), S("data", 2), S("ack", 3), S("dataack", 4),
  S("closereq", 5), S("close", 6), S("reset", 7), S("sync", 8), S("syncack", 9), END};
static const struct nr_sym mh_syms[] = {
  S("binding-refresh-request", 0), S("home-test-init", 1), S("careof-test-init", 2),
  S("home-test", 3), S("careof-test", 4), S("binding-update", 5),
  S("binding-acknowledgement", 6), S("binding-error", 7), S("fast-binding-update", 8),
  S("fast-binding-acknowledgement", 9), S("fast-binding-advertisement", 10),
  S("experimental-mobility-header", 11), S("home-agent-switch-message", 12), END};
static const struct nr_sym arphrd_syms[] = {
  S("ether", 1), S("ppp", 512), S("ipip", 768), S("ipip6", 769), S("loopback", 772),
  S("sit", 776), S("ipgre", 778), END};
static const struct nr_sym ct_state_syms[] = {
  S("invalid", 1), S("new", 8), S("established", 2), S("related", 4), S("untracked", 64), END};
static const struct nr_sym ct_dir_syms[] = {S("original", 0), S("reply", 1), END};
static const struct nr_sym ct_status_syms[] = {
  S("expected", 1), S("seen-reply", 2), S("assured", 4), S("confirmed", 8), S("snat", 16),
  S("dnat", 32), S("dying", 512), END};
static const struct nr_sym icmp6_type_syms[] = {
  S("destination-unreachable", 1), S("packet-too-big", 2), S("time-exceeded", 3),
  S("parameter-problem", 4), S("echo-request", 128), S("echo-reply", 129),
  S("mld-listener-query", 130), S("mld-listener-report", 131), S("mld-listener-done", 132),
  S("mld-listener-reduction", 132), S("nd-router-solicit", 133), S("nd-router-advert", 134),
  S("nd-neighbor-solicit", 135), S("nd-neighbor-advert", 136), S("nd-redirect", 137),
  S("router-renumbering", 138), S("ind-neighbor-solicit", 141),
  S("ind-neighbor-advert", 142), S("mld2-listener-report", 143), END};
static const struct nr_sym pkttype_syms[] = {
  S("host", 0), S("unicast", 0), S("broadcast", 1), S("multicast", 2), S("other", 3), END};
static const struct nr_sym icmp_code_syms[] = {
  S("net-unreachable", 0), S("host-unreachable", 1), S("prot-unreachable", 2),
  S("port-unreachable", 3), S("frag-needed", 4), S("net-prohibited", 9),
  S("host-prohibited", 10), S("admin-prohibited", 13), END};
static const struct nr_sym icmpv6_code_syms[] = {
  S("no-route", 0), S("admin-prohibited", 1), S("addr-unreachable", 3),
  S("port-unreachable", 4), S("policy-fail", 5), S("reject-route", 6), END};
static const struct nr_sym icmpx_code_syms[] = {
  S("port-unreachable", 1), S("admin-prohibited", 3), S("no-route", 0),
  S("host-unreachable", 2), END};
static const struct nr_sym dscp_syms[] = {
  S("cs0", 0x00), S("cs1", 0x08), S("cs2", 0x10), S("cs3", 0x18), S("cs4", 0x20),
  S("cs5", 0x28), S("cs6", 0x30), S("cs7", 0x38), S("df", 0x00), S("be", 0x00),
  S("lephb", 0x01), S("af11", 0x0a), S("af12", 0x0c), S("af13", 0x0e), S("af21", 0x12),
  S("af22", 0x14), S("af23", 0x16), S("af31", 0x1a), S("af32", 0x1c), S("af33", 0x1e),
  S("af41", 0x22), S("af42", 0x24), S("af43", 0x26), S("va", 0x2c), S("ef", 0x2e), END};
static const struct nr_sym ecn_syms[] = {
  S("not-ect", 0), S("ect1", 1), S("ect0", 2), S("ce", 3), END};
static const struct nr_sym fib_addr_syms[] = {
  S("unspec", 0), S("unicast", 1), S("local", 2), S("broadcast", 3), S("anycast", 4),
  S("multicast", 5), S("blackhole", 6), S("unreachable", 7), S("prohibit", 8), END};
static const struct nr_sym boolean_syms[] = {S("exists", 1), S("missing", 0), END};
static const struct nr_sym ct_event_syms[] = {
  S("new", 1), S("related", 2), S("destroy", 4), S("reply", 8), S("assured", 16),
  S("protoinfo", 32), S("helper", 64), S("mark", 128), S("seqadj", 256), S("secmark", 512),
  S("label", 1024), END};
static const struct nr_sym igmp_syms[] = {
  S("membership-query", 0x11), S("membership-report-v1", 0x12),
  S("membership-report-v2", 0x16), S("membership-report-v3", 0x22), S("leave-group", 0x17),
  END};
static const struct nr_sym day_syms[] = {
  S("Sunday", 0), S("Monday", 1), S("Tuesday", 2), S("Wednesday", 3), S("Thursday", 4),
  S("Friday", 5), S("Saturday", 6), END};

/* id, base, order, fmt, bits, name, symbols, unknown-as-hex */
static const struct nr_type types[T__ALL] = {
  [T_INVALID] = {T_INVALID, NB_INVALID, BO_NONE, FM_DEC, 0, "invalid", NULL, 0},
  [T_VERDICT] = {T_VERDICT, NB_VERDICT, BO_NONE, FM_VERDICT, 0, "verdict", NULL, 0},
  [T_NFPROTO] = {T_NFPROTO, NB_INT, BO_HOST, FM_DEC, 8, "nf_proto", nfproto_syms, 0},
  [T_BITMASK] = {T_BITMASK, NB_BITMASK, BO_HOST, FM_HEX, 0, "bitmask", NULL, 1},
  [T_INTEGER] = {T_INTEGER, NB_INT, BO_HOST, FM_DEC, 0, "integer", NULL, 0},
  [T_STRING] = {T_STRING, NB_STRING, BO_HOST, FM_STRING, 0, "string", NULL, 0},
  [T_LLADDR] = {T_LLADDR, NB_LLADDR, BO_BE, FM_LLADDR, 0, "ll_addr", NULL, 0},
  [T_IPADDR] = {T_IPADDR, NB_INT, BO_BE, FM_IPV4, 32, "ipv4_addr", NULL, 0},
  [T_IP6ADDR] = {T_IP6ADDR, NB_INT, BO_BE, FM_IPV6, 128, "ipv6_addr", NULL, 0},
  [T_ETHERADDR] = {T_ETHERADDR, NB_LLADDR, BO_BE, FM_LLADDR, 48, "ether_addr", NULL, 0},
  [T_ETHERTYPE] = {T_ETHERTYPE, NB_INT, BO_BE, FM_HEX, 16, "ether_type", ethertype_syms, 1},
  [T_ARPOP] = {T_ARPOP, NB_INT, BO_BE, FM_DEC, 16, "arp_op", arpop_syms, 0},
  [T_INET_PROTO] = {T_INET_PROTO, NB_INT, BO_BE, FM_PROTO, 8, "inet_proto", NULL, 0},
  [T_INET_SERVICE] = {T_INET_SERVICE, NB_INT, BO_BE, FM_DEC, 16, "inet_service", NULL, 0},
  [T_ICMP_TYPE] = {T_ICMP_TYPE, NB_INT, BO_BE, FM_DEC, 8, "icmp_type", icmp_type_syms, 0},
  [T_TCP_FLAG] = {T_TCP_FLAG, NB_BITMASK, BO_BE, FM_HEX, 8, "tcp_flag", tcp_flag_syms, 1},
  [T_DCCP_PKTTYPE] = {T_DCCP_PKTTYPE, NB_INT, BO_BE, FM_DEC, 4, "dccp_pkttype", dccp_syms, 0},
  [T_MH_TYPE] = {T_MH_TYPE, NB_INT, BO_BE, FM_DEC, 8, "mh_type", mh_syms, 0},
  [T_TIME] = {T_TIME, NB_INT, BO_HOST, FM_TIME, 64, "time", NULL, 0},
  [T_MARK] = {T_MARK, NB_INT, BO_HOST, FM_MARK, 32, "mark", NULL, 0},
  [T_IFINDEX] = {T_IFINDEX, NB_INT, BO_HOST, FM_IFINDEX, 32, "iface_index", NULL, 0},
  [T_ARPHRD] = {T_ARPHRD, NB_INT, BO_HOST, FM_DEC, 16, "iface_type", arphrd_syms, 0},
  [T_REALM] = {T_REALM, NB_INT, BO_HOST, FM_FILE, 32, "realm", NULL, 0},
  [T_CLASSID] = {T_CLASSID, NB_INT, BO_HOST, FM_CLASSID, 32, "classid", NULL, 0},
  [T_UID] = {T_UID, NB_INT, BO_HOST, FM_UID, 32, "uid", NULL, 0},
  [T_GID] = {T_GID, NB_INT, BO_HOST, FM_GID, 32, "gid", NULL, 0},
  [T_CT_STATE] = {T_CT_STATE, NB_BITMASK, BO_HOST, FM_HEX, 32, "ct_state", ct_state_syms, 1},
  [T_CT_DIR] = {T_CT_DIR, NB_INT, BO_NONE, FM_DEC, 8, "ct_dir", ct_dir_syms, 0},
  [T_CT_STATUS] = {T_CT_STATUS, NB_BITMASK, BO_HOST, FM_HEX, 32, "ct_status", ct_status_syms, 1},
  [T_ICMP6_TYPE] = {T_ICMP6_TYPE, NB_INT, BO_BE, FM_DEC, 8, "icmpv6_type", icmp6_type_syms, 0},
  [T_CT_LABEL] = {T_CT_LABEL, NB_BITMASK, BO_HOST, FM_HEX, 128, "ct_label", NULL, 1},
  [T_PKTTYPE] = {T_PKTTYPE, NB_INT, BO_HOST, FM_DEC, 8, "pkt_type", pkttype_syms, 0},
  [T_ICMP_CODE] = {T_ICMP_CODE, NB_INT, BO_BE, FM_DEC, 8, "icmp_code", icmp_code_syms, 0},
  [T_ICMPV6_CODE] = {T_ICMPV6_CODE, NB_INT, BO_BE, FM_DEC, 8, "icmpv6_code", icmpv6_code_syms, 0},
  [T_ICMPX_CODE] = {T_ICMPX_CODE, NB_INT, BO_BE, FM_DEC, 8, "icmpx_code", icmpx_code_syms, 0},
  [T_DEVGROUP] = {T_DEVGROUP, NB_INT, BO_HOST, FM_FILE, 32, "devgroup", NULL, 0},
  [T_DSCP] = {T_DSCP, NB_INT, BO_BE, FM_HEX, 6, "dscp", dscp_syms, 1},
  [T_ECN] = {T_ECN, NB_INT, BO_BE, FM_HEX, 2, "ecn", ecn_syms, 1},
  [T_FIB_ADDR] = {T_FIB_ADDR, NB_INT, BO_HOST, FM_DEC, 32, "fib_addrtype", fib_addr_syms, 0},
  [T_BOOLEAN] = {T_BOOLEAN, NB_INT, BO_HOST, FM_BOOLEAN, 1, "boolean", boolean_syms, 0},
  [T_CT_EVENT] = {T_CT_EVENT, NB_BITMASK, BO_HOST, FM_HEX, 32, "ct_event", ct_event_syms, 1},
  [T_IFNAME] = {T_IFNAME, NB_STRING, BO_HOST, FM_IFNAME, 128, "ifname", NULL, 0},
  [T_IGMP_TYPE] = {T_IGMP_TYPE, NB_INT, BO_BE, FM_DEC, 8, "igmp_type", igmp_syms, 0},
  [T_TIME_DATE] = {T_TIME_DATE, NB_INT, BO_HOST, FM_DATE, 64, "time", NULL, 0},
  [T_TIME_HOUR] = {T_TIME_HOUR, NB_INT, BO_HOST, FM_HOUR, 32, "hour", NULL, 0},
  [T_TIME_DAY] = {T_TIME_DAY, NB_INT, BO_HOST, FM_DAY, 8, "day", day_syms, 0},
  [T_CGROUPV2] = {T_CGROUPV2, NB_INT, BO_HOST, FM_CGROUP, 64, "cgroupsv2", NULL, 0},
  [T_XINTEGER] = {T_XINTEGER, NB_INT, BO_BE, FM_HEX, 0, "integer", NULL, 0},
};

const struct nr_type *nr_type_get(unsigned id) {
  return id < T__ALL && types[id].name ? &types[id] : NULL;
}

const struct nr_type *nr_type_byname(const char *name) {
  for (unsigned i = 0; i < T__MAX; i++)
    if (types[i].name && strcmp(types[i].name, name) == 0) return &types[i];
  return NULL;
}

/* ---- reading ---- */

static int sym_lookup(const struct nr_sym *s, const char *name, uint64_t *v) {
  for (; s && s->name; s++)
    if (strcmp(s->name, name) == 0) { *v = s->val; return 0; }
  return -1;
}

/* "30s", "1h30m", "100ms", "2d" into milliseconds. */
static int parse_time(const char *s, uint64_t *ms) {
  uint64_t total = 0;
  int any = 0;
  while (*s) {
    if (!isdigit((unsigned char)*s)) return -1;
    uint64_t n = 0;
    while (isdigit((unsigned char)*s)) {
      if (n > UINT64_MAX / 10 - 10) return -1;
      n = n * 10 + (uint64_t)(*s++ - '0');
    }
    uint64_t unit;
    if (s[0] == 'm' && s[1] == 's') { unit = 1; s += 2; }
    else if (*s == 'd') { unit = 86400000; s++; }
    else if (*s == 'h') { unit = 3600000; s++; }
    else if (*s == 'm') { unit = 60000; s++; }
    else if (*s == 's') { unit = 1000; s++; }
    else if (*s == 0 && !any) { unit = 1000; }   /* a plain number: seconds */
    else return -1;
    total += n * unit;
    any = 1;
  }
  if (!any) return -1;
  *ms = total;
  return 0;
}

static long gmtoff_now(time_t at) {
  struct tm tm;
  return localtime_r(&at, &tm) ? tm.tm_gmtoff : 0;
}

/* file of "NUMBER NAME" lines (iproute2's group, rt_realms, rt_marks) */
static int file_lookup(const char *path, const char *name, uint64_t *num, uint64_t want,
                       char *out, size_t size) {
  FILE *f = fopen(path, "re");
  if (f == NULL) return -1;
  char line[256];
  int rc = -1;
  while (fgets(line, sizeof line, f)) {
    char *p = line;
    while (*p == ' ' || *p == '\t') p++;
    if (*p == '#' || *p == '\n' || *p == 0) continue;
    char *end;
    unsigned long long n = strtoull(p, &end, 0);
    if (end == p) continue;
    p = end;
    while (*p == ' ' || *p == '\t') p++;
    char *e = p;
    while (*e && *e != ' ' && *e != '\t' && *e != '\n') e++;
    *e = 0;
    if (name && strcmp(p, name) == 0) { *num = n; rc = 0; break; }
    if (!name && n == want) { snprintf(out, size, "%s", p); rc = 0; break; }
  }
  fclose(f);
  return rc;
}

static const char *type_file(const struct nr_type *t) {
  return t->id == T_REALM ? "/etc/iproute2/rt_realms"
         : t->id == T_DEVGROUP ? "/etc/iproute2/group" : "/etc/iproute2/rt_marks";
}

int nr_type_parse(struct nr_cc *c, const struct nr_type *t, const char *s, unsigned bits,
                  uint8_t *v, char *why, size_t wsize) {
  unsigned bytes = (bits + 7) / 8;
  unsigned long long n;
  uint64_t x;
  memset(v, 0, NR_VMAX);
  if (bytes > NR_VMAX) { snprintf(why, wsize, "value too long"); return -1; }
  unsigned long long max = bits >= 64 ? ~0ULL : (1ULL << bits) - 1;
  switch (t->fmt) {
  case FM_IPV4: {
    struct in_addr a;
    if (inet_pton(AF_INET, s, &a) == 1) { memcpy(v, &a, 4); return 0; }
    /* like nft: a plain number, or a host name */
    if (nr_number(s, 0xffffffffULL, &n) == 0) { nr_be_put(v, 4, n); return 0; }
    struct addrinfo hints = {.ai_family = AF_INET}, *res = NULL;
    if (!isalpha((unsigned char)s[0]) || getaddrinfo(s, NULL, &hints, &res) != 0 || res == NULL) {
      snprintf(why, wsize, "bad IPv4 address \"%s\"", s);
      return -1;
    }
    a = ((struct sockaddr_in *)res->ai_addr)->sin_addr;
    freeaddrinfo(res);
    memcpy(v, &a, 4);
    return 0;
  }
  case FM_IPV6: {
    char buf[64];
    size_t len = strlen(s);
    if (s[0] == '[' && len > 2 && s[len - 1] == ']' && len - 2 < sizeof buf) {
      memcpy(buf, s + 1, len - 2);
      buf[len - 2] = 0;
      s = buf;
    }
    if (inet_pton(AF_INET6, s, v) != 1) {
      snprintf(why, wsize, "bad IPv6 address \"%s\"", s);
      return -1;
    }
    return 0;
  }
  case FM_LLADDR: {
    unsigned i = 0;
    const char *p = s;
    while (*p && i < bytes) {
      char *end;
      unsigned long b = strtoul(p, &end, 16);
      if (end == p || end - p > 2 || b > 255) break;
      v[i++] = (uint8_t)b;
      p = end;
      if (*p == ':') p++;
      else break;
    }
    if (*p || i != bytes || p[-1] == ':') {
      snprintf(why, wsize, "bad link layer address \"%s\"", s);
      return -1;
    }
    return 0;
  }
  case FM_STRING:
  case FM_IFNAME: {
    size_t len = strlen(s);
    if (len > bytes || (t->fmt == FM_IFNAME && len == bytes)) {
      snprintf(why, wsize, "string \"%s\" longer than %u characters", s,
               t->fmt == FM_IFNAME ? bytes - 1 : bytes);
      return -1;
    }
    memcpy(v, s, len);
    return 0;
  }
  case FM_PROTO: {
    if (nr_number(s, 255, &n) == 0) { v[0] = (uint8_t)n; return 0; }
    /* names nft knows itself, besides the protocol database's */
    static const struct nr_sym own[] = {{"icmpv6", 58}, {"comp", 108}, {"udplite", 136},
                                        {NULL, 0}};
    if (sym_lookup(own, s, &x) == 0) { v[0] = (uint8_t)x; return 0; }
    struct protoent pe, *res = NULL;
    char tmp[1024];
    if (getprotobyname_r(s, &pe, tmp, sizeof tmp, &res) == 0 && res && res->p_proto >= 0 &&
        res->p_proto <= 255) {
      v[0] = (uint8_t)res->p_proto;
      return 0;
    }
    snprintf(why, wsize, "unknown protocol \"%s\"", s);
    return -1;
  }
  case FM_TIME:
    if (parse_time(s, &x) < 0 || x > max) {
      snprintf(why, wsize, "bad time \"%s\" (e.g. 30s, 5m, 1h, 1d)", s);
      return -1;
    }
    nr_be_put(v, bytes, x);
    return 0;
  case FM_CGROUP:  /* a path only, as nft reads it */
    if (nr_cgroup_id(s, &x, why, wsize) < 0) return -1;
    nr_be_put(v, 8, x);
    return 0;
  case FM_IFINDEX: {
    uint32_t idx;
    if (nr_number(s, 0xffffffffULL, &n) == 0) { nr_be_put(v, 4, n); return 0; }
    if (c == NULL || c->env == NULL || c->env->ifindex == NULL) {
      snprintf(why, wsize, "an interface by name (\"%s\") needs the namespace's interfaces", s);
      return -2;
    }
    if (c->env->ifindex(c->env->ud, s, &idx) < 0) {
      snprintf(why, wsize, "no interface \"%s\"", s);
      return -3;
    }
    nr_be_put(v, 4, idx);
    return 0;
  }
  case FM_CLASSID: {
    /* read as nft reads it: hexadecimal major:minor, or a number; no more checking */
    if (strcmp(s, "root") == 0) { nr_be_put(v, 4, 0xffffffff); return 0; }
    if (strcmp(s, "none") == 0) { nr_be_put(v, 4, 0); return 0; }
    if (strchr(s, '-') || strchr(s, '/')) goto bad;  /* a range or prefix of handles */
    const char *colon = strchr(s, ':');
    uint32_t h;
    if (colon) {
      char maj[32];
      snprintf(maj, sizeof maj, "%.*s", (int)(colon - s), s);
      h = (uint32_t)(strtoull(maj, NULL, 16) << 16) | (uint32_t)strtoull(colon + 1, NULL, 16);
    } else {
      h = (uint32_t)strtoull(s, NULL, 0);
    }
    nr_be_put(v, 4, h);
    return 0;
  }
  case FM_UID:
  case FM_GID:
    if (nr_number(s, 0xffffffffULL, &n) == 0) { nr_be_put(v, 4, n); return 0; }
    if (t->fmt == FM_UID) {
      struct passwd pw, *res = NULL;
      char tmp[2048];
      if (getpwnam_r(s, &pw, tmp, sizeof tmp, &res) == 0 && res) {
        nr_be_put(v, 4, res->pw_uid);
        return 0;
      }
    } else {
      struct group gr, *res = NULL;
      char tmp[4096];
      if (getgrnam_r(s, &gr, tmp, sizeof tmp, &res) == 0 && res) {
        nr_be_put(v, 4, res->gr_gid);
        return 0;
      }
    }
    snprintf(why, wsize, "unknown %s \"%s\"", t->fmt == FM_UID ? "user" : "group", s);
    return -1;
  case FM_DATE: {
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = strptime(s, "%Y-%m-%d %H:%M:%S", &tm);
    if (end == NULL || *end) {
      memset(&tm, 0, sizeof tm);
      end = strptime(s, "%Y-%m-%d %H:%M", &tm);
    }
    if (end == NULL || *end) {
      memset(&tm, 0, sizeof tm);
      end = strptime(s, "%Y-%m-%d", &tm);
    }
    time_t ts;
    if (end != NULL && *end == 0) {
      ts = timegm(&tm);
      ts -= gmtoff_now(ts);       /* the text is local time */
    } else if (nr_number(s, 0xffffffffffULL, &n) == 0) {
      ts = (time_t)n;
    } else {
      snprintf(why, wsize, "bad date \"%s\" (YYYY-MM-DD [HH:MM[:SS]])", s);
      return -1;
    }
    nr_be_put(v, 8, (uint64_t)ts * 1000000000ULL);
    return 0;
  }
  case FM_HOUR: {
    unsigned h, m, sec = 0;
    char extra;
    int k = sscanf(s, "%u:%u:%u%c", &h, &m, &sec, &extra);
    if ((k != 2 && k != 3) || h > 23 || m > 59 || sec > 59) {
      snprintf(why, wsize, "bad hour \"%s\" (HH:MM[:SS])", s);
      return -1;
    }
    long secs = (long)(h * 3600 + m * 60 + sec) - gmtoff_now(time(NULL));
    secs = ((secs % 86400) + 86400) % 86400;
    nr_be_put(v, 4, (uint64_t)secs);
    return 0;
  }
  case FM_DAY:
    break;  /* a day's name (Monday...) or a number */
  case FM_FILE:
  case FM_MARK:
    if (nr_number(s, max, &n) == 0) { nr_be_put(v, bytes, n); return 0; }
    if (file_lookup(type_file(t), s, &x, 0, NULL, 0) == 0 && x <= max) {
      nr_be_put(v, bytes, x);
      return 0;
    }
    goto bad;
  default:
    if (t->id == T_CT_LABEL) {  /* a label is a bit number */
      if (nr_number(s, 127, &n) < 0) {
        snprintf(why, wsize, "bad ct label \"%s\" (a bit number, 0-127)", s);
        return -1;
      }
      v[bytes - 1 - n / 8] = (uint8_t)(1u << (n % 8));
      return 0;
    }
    break;
  }
  /* integer-based types: a symbol, then a number */
  if (sym_lookup(t->syms, s, &x) == 0) { nr_be_put(v, bytes, x); return 0; }
  if (t->id == T_INET_SERVICE) {
    struct servent se, *res = NULL;
    char tmp[1024];
    if (nr_number(s, 65535, &n) == 0) { nr_be_put(v, 2, n); return 0; }
    if (isalpha((unsigned char)s[0]) && getservbyname_r(s, NULL, &se, tmp, sizeof tmp, &res) == 0 &&
        res) {
      nr_be_put(v, 2, ntohs((uint16_t)res->s_port));
      return 0;
    }
    snprintf(why, wsize, "bad port \"%s\"", s);
    return -1;
  }
  if (nr_number(s, max, &n) == 0) { nr_be_put(v, bytes, n); return 0; }
bad:
  if (s[0] >= '0' && s[0] <= '9')
    snprintf(why, wsize, "bad value \"%s\" for %s (%u bits)", s, t->name, bits);
  else
    snprintf(why, wsize, "unknown %s \"%s\"", t->name, s);
  return -1;
}

/* ---- printing ---- */

void nr_time_print(uint64_t ms, char *buf, size_t size) {
  struct nr_sbuf b = {buf, size, 0, 0, 0};
  uint64_t d = ms / 86400000, h = ms % 86400000 / 3600000, m = ms % 3600000 / 60000,
           s = ms % 60000 / 1000, r = ms % 1000;
  buf[0] = 0;
  if (d) nr_sb_add(&b, "%llud", (unsigned long long)d);
  if (h) nr_sb_add(&b, "%lluh", (unsigned long long)h);
  if (m) nr_sb_add(&b, "%llum", (unsigned long long)m);
  if (s) nr_sb_add(&b, "%llus", (unsigned long long)s);
  if (r) nr_sb_add(&b, "%llums", (unsigned long long)r);
}

static void print_hex(const uint8_t *v, unsigned bytes, unsigned digits, char *buf,
                      size_t size) {
  /* the number, with at least `digits` digits; values over 64 bits in full */
  unsigned start = 0;
  while (start + 1 < bytes && v[start] == 0) start++;
  struct nr_sbuf b = {buf, size, 0, 0, 0};
  char hex[2 * NR_VMAX + 1];
  size_t n = 0;
  for (unsigned i = start; i < bytes; i++) n += (size_t)snprintf(hex + n, 3, "%02x", v[i]);
  const char *h = hex;
  while (h[0] == '0' && h[1]) h++;
  size_t len = strlen(h);
  nr_sb_add(&b, "0x");
  for (size_t i = len; i < digits; i++) nr_sb_add(&b, "0");
  nr_sb_add(&b, "%s", h);
}

static void print_dec(const uint8_t *v, unsigned bytes, char *buf, size_t size) {
  if (bytes <= 8) {
    snprintf(buf, size, "%llu", (unsigned long long)nr_be_get(v, bytes));
    return;
  }
  /* wider than 64 bits: long division by 10 */
  uint8_t t[NR_VMAX];
  char digits[160];
  int nd = 0;
  memcpy(t, v, bytes);
  for (;;) {
    int zero = 1;
    unsigned rem = 0;
    for (unsigned i = 0; i < bytes; i++) {
      unsigned cur = rem * 256 + t[i];
      t[i] = (uint8_t)(cur / 10);
      rem = cur % 10;
      if (t[i]) zero = 0;
    }
    digits[nd++] = (char)('0' + rem);
    if (zero || nd >= (int)sizeof digits - 1) break;
  }
  size_t k = 0;
  while (nd > 0 && k + 1 < size) buf[k++] = digits[--nd];
  buf[k] = 0;
}

void nr_type_print(const struct nr_type *t, const uint8_t *v, unsigned bits, char *buf,
                   size_t size, const struct cnet_nftrule_denv *env, int numeric) {
  unsigned bytes = (bits + 7) / 8;
  uint64_t x = bytes <= 8 ? nr_be_get(v, bytes) : 0;
  char tmp[256];
  if (numeric) {
    /* nft prints ranges with numbers only: symbols, protocol and file names left out */
    switch (t->fmt) {
    case FM_PROTO: case FM_FILE: case FM_DAY: case FM_UID: case FM_GID:
      print_dec(v, bytes, buf, size);
      return;
    case FM_MARK:
      snprintf(buf, size, "0x%08llx", (unsigned long long)x);
      return;
    default:
      if (t->syms == NULL) break;
      if (t->sym_hex) print_hex(v, bytes, t->id == T_ETHERTYPE ? 4 : t->id == T_DSCP ? 2 : t->id == T_ECN ? 1 : 0, buf, size);
      else print_dec(v, bytes, buf, size);
      return;
    }
  }
  if (t->id == T_CT_LABEL) {
    /* a label is its bit number (names would come from /etc/connlabel.conf) */
    for (unsigned bit = 0; bit < bytes * 8; bit++)
      if (v[bytes - 1 - bit / 8] & (1u << (bit % 8))) {
        snprintf(buf, size, "%u", bit);
        return;
      }
    snprintf(buf, size, "0");
    return;
  }
  if (t->syms && bytes <= 8 && t->fmt != FM_DAY) {
    for (const struct nr_sym *s = t->syms; s->name; s++)
      if (s->val == x) { snprintf(buf, size, "%s", s->name); return; }
  }
  switch (t->fmt) {
  case FM_IPV4: inet_ntop(AF_INET, v, buf, (socklen_t)size); return;
  case FM_IPV6: inet_ntop(AF_INET6, v, buf, (socklen_t)size); return;
  case FM_LLADDR: {
    struct nr_sbuf b = {buf, size, 0, 0, 0};
    buf[0] = 0;
    for (unsigned i = 0; i < bytes; i++) nr_sb_add(&b, "%s%02x", i ? ":" : "", v[i]);
    return;
  }
  case FM_STRING:
  case FM_IFNAME: {
    size_t n = strnlen((const char *)v, bytes);
    snprintf(buf, size, "\"%.*s\"", (int)n, (const char *)v);
    return;
  }
  case FM_PROTO: {
    struct protoent pe, *res = NULL;
    if (getprotobynumber_r((int)x, &pe, tmp, sizeof tmp, &res) == 0 && res)
      snprintf(buf, size, "%s", res->p_name);
    else
      snprintf(buf, size, "%llu", (unsigned long long)x);
    return;
  }
  case FM_MARK:
  case FM_FILE:
    if (file_lookup(type_file(t), NULL, NULL, x, tmp, sizeof tmp) == 0) {
      snprintf(buf, size, "\"%s\"", tmp);  /* nft quotes names from iproute2's files */
      return;
    }
    if (t->fmt == FM_MARK) snprintf(buf, size, "0x%08llx", (unsigned long long)x);
    else snprintf(buf, size, "%llu", (unsigned long long)x);
    return;
  case FM_TIME: nr_time_print(x, buf, size); return;
  case FM_CGROUP:
    if (nr_cgroup_path(x, tmp, sizeof tmp) == 0) snprintf(buf, size, "\"%s\"", tmp);
    else snprintf(buf, size, "%llu", (unsigned long long)x);
    return;
  case FM_IFINDEX:
    if (env && env->ifname && env->ifname(env->ud, (uint32_t)x, tmp, sizeof tmp) == 0)
      snprintf(buf, size, "\"%s\"", tmp);
    else
      snprintf(buf, size, "%llu", (unsigned long long)x);
    return;
  case FM_CLASSID:
    if (x == 0xffffffff) snprintf(buf, size, "root");
    else if (x == 0) snprintf(buf, size, "none");
    else snprintf(buf, size, "%llx:%llx", (unsigned long long)(x >> 16),
                  (unsigned long long)(x & 0xffff));
    return;
  case FM_DATE: {
    time_t ts = (time_t)(x / 1000000000ULL);
    ts += gmtoff_now(ts);
    struct tm tm;
    if (gmtime_r(&ts, &tm) && strftime(tmp, sizeof tmp, "%Y-%m-%d %T", &tm))
      snprintf(buf, size, "\"%s\"", tmp);
    else
      snprintf(buf, size, "%llu", (unsigned long long)x);
    return;
  }
  case FM_HOUR: {
    long secs = ((long)x + gmtoff_now(time(NULL))) % 86400;
    if (secs < 0) secs += 86400;
    if (secs % 60)
      snprintf(buf, size, "\"%02ld:%02ld:%02ld\"", secs / 3600, secs % 3600 / 60, secs % 60);
    else
      snprintf(buf, size, "\"%02ld:%02ld\"", secs / 3600, secs % 3600 / 60);
    return;
  }
  case FM_DAY:
    for (const struct nr_sym *s = t->syms; s->name; s++)
      if (s->val == x) { snprintf(buf, size, "\"%s\"", s->name); return; }
    snprintf(buf, size, "%llu", (unsigned long long)x);
    return;
  case FM_HEX: {
    unsigned digits = t->id == T_ETHERTYPE ? 4 : t->id == T_DSCP ? 2 : t->id == T_ECN ? 1 : 0;
    print_hex(v, bytes, digits, buf, size);
    return;
  }
  default:
    print_dec(v, bytes, buf, size);
    return;
  }
}
