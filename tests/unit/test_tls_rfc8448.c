/* RFC 8448 §3 ("Simple 1-RTT Handshake") and §4 ("Resumed 0-RTT
 * Handshake") byte for byte through the TLS core: the key schedule from the
 * trace's (EC)DHE secret and transcript, the transcript hash over the
 * trace's messages, and record protection in both directions (sealing the
 * trace's plaintext gives the trace's records; opening the records gives
 * the plaintext). The hex below is copied from the RFC text (test data). */
#include <errno.h>
#include <stdlib.h>

#include "tls/tls_internal.h"
#include "unit.h"

#ifdef TLS_CORE_STANDALONE
/* Built without the handshake layer (see tests/unit/test_tls_core.c). */
int tls_hs_start(struct synack_tls *t)
{
	return 0;
}
int tls_hs_input(struct synack_tls *t, const uint8_t *msg, size_t len, int epoch)
{
	return 0;
}
int tls_hs_ccs(struct synack_tls *t)
{
	return 0;
}
void tls_hs_free(struct synack_tls *t) {}
struct tls_session;
int tls_session_parse(const uint8_t *blob, size_t len, struct tls_session *s);
int tls_session_parse(const uint8_t *blob, size_t len, struct tls_session *s)
{
	return -1;
}
#endif

/* §3 server  extract secret "handshake": IKM (32 octets) */
static const char ecdhe[] = "8bd4054fb55b9d63fdfbacf9f04b9f0d35e6d63f537563efd46272900f89492d";
/* §3 client  construct a ClientHello handshake message: ClientHello (196 octets) */
static const char client_hello[] =
    "010000c00303cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece700000613011303130201"
    "0000910000000b0009000006736572766572ff01000100000a00140012001d0017001800190100010101020103010400"
    "230000003300260024001d002099381de560e4bd43d23d8e435a7dbafeb3c06e51c13cae4d5413691e529aaf2c002b00"
    "03020304000d0020001e040305030603020308040805080604010501060102010402050206020202002d00020101001c"
    "00024001";
/* §3 client  send handshake record: complete record (201 octets) */
static const char client_hello_record[] =
    "16030100c4010000c00303cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece70000061301"
    "13031302010000910000000b0009000006736572766572ff01000100000a00140012001d001700180019010001010102"
    "0103010400230000003300260024001d002099381de560e4bd43d23d8e435a7dbafeb3c06e51c13cae4d5413691e529a"
    "af2c002b0003020304000d0020001e040305030603020308040805080604010501060102010402050206020202002d00"
    "020101001c00024001";
/* §3 server  extract secret "early": secret (32 octets) */
static const char early_secret[] = "33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a";
/* §3 server  construct a ServerHello handshake message: ServerHello (90 octets) */
static const char server_hello[] =
    "020000560303a6af06a4121860dc5e6e60249cd34c95930c8ac5cb1434dac155772ed3e2692800130100002e00330024"
    "001d0020c9828876112095fe66762bdbf7c672e156d6cc253b833df1dd69b1b04e751f0f002b00020304";
/* §3 server  send handshake record: complete record (95 octets) */
static const char server_hello_record[] =
    "160303005a020000560303a6af06a4121860dc5e6e60249cd34c95930c8ac5cb1434dac155772ed3e269280013010000"
    "2e00330024001d0020c9828876112095fe66762bdbf7c672e156d6cc253b833df1dd69b1b04e751f0f002b00020304";
/* §3 server  extract secret "handshake": secret (32 octets) */
static const char hs_secret[] = "1dc826e93606aa6fdc0aadc12f741b01046aa6b99f691ed221a9f0ca043fbeac";
/* §3 server  derive secret "tls13 c hs traffic": hash (32 octets) */
static const char hash_ch_sh[] = "860c06edc07858ee8e78f0e7428c58edd6b43f2ca3e6e95f02ed063cf0e1cad8";
/* §3 server  derive secret "tls13 c hs traffic": expanded (32 octets) */
static const char c_hs[] = "b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21";
/* §3 server  derive secret "tls13 s hs traffic": expanded (32 octets) */
static const char s_hs[] = "b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38";
/* §3 server  extract secret "master": secret (32 octets) */
static const char master[] = "18df06843d13a08bf2a449844c5f8a478001bc4d4c627984d5a41da8d0402919";
/* §3 server  derive write traffic keys for handshake data: key expanded (16 octets) */
static const char s_hs_key[] = "3fce516009c21727d0f2e4e86ee403bc";
/* §3 server  derive write traffic keys for handshake data: iv expanded (12 octets) */
static const char s_hs_iv[] = "5d313eb2671276ee13000b30";
/* §3 server  construct an EncryptedExtensions handshake message: EncryptedExtensions (40 octets) */
static const char encrypted_extensions[] =
    "080000240022000a00140012001d00170018001901000101010201030104001c0002400100000000";
/* §3 server  construct a Certificate handshake message: Certificate (445 octets) */
static const char certificate[] =
    "0b0001b9000001b50001b0308201ac30820115a003020102020102300d06092a864886f70d01010b0500300e310c300a"
    "06035504031303727361301e170d3136303733303031323335395a170d3236303733303031323335395a300e310c300a"
    "0603550403130372736130819f300d06092a864886f70d010101050003818d0030818902818100b4bb498f8279303d98"
    "0836399b36c6988c0c68de55e1bdb826d3901a2461eafd2de49a91d015abbc9a95137ace6c1af19eaa6af98c7ced4312"
    "0998e187a80ee0ccb0524b1b018c3e0b63264d449a6d38e22a5fda430846748030530ef0461c8ca9d9efbfae8ea6d1d0"
    "3e2bd193eff0ab9a8002c47428a6d35a8d88d79f7f1e3f0203010001a31a301830090603551d1304023000300b060355"
    "1d0f0404030205a0300d06092a864886f70d01010b05000381810085aad2a0e5b9276b908c65f73a7267170618a54c5f"
    "8a7b337d2df7a594365417f2eae8f8a58c8f8172f9319cf36b7fd6c55b80f21a03015156726096fd335e5e67f2dbf102"
    "702e608ccae6bec1fc63a42a99be5c3eb7107c3c54e9b9eb2bd5203b1c3b84e0a8b2f759409ba3eac9d91d402dcc0cc8"
    "f8961229ac9187b42b4de10000";
/* §3 server  construct a CertificateVerify handshake message: CertificateVerify (136 octets) */
static const char certificate_verify[] =
    "0f000084080400805a747c5d88fa9bd2e55ab085a61015b7211f824cd484145ab3ff52f1fda8477b0b7abc90db78e2d3"
    "3a5c141a078653fa6bef780c5ea248eeaaa785c4f394cab6d30bbe8d4859ee511f602957b15411ac027671459e46445c"
    "9ea58c181e818e95b8c3fb0bf3278409d3be152a3da5043e063dda65cdf5aea20d53dfacd42f74f3";
/* §3 server  calculate finished "tls13 finished": expanded (32 octets) */
static const char s_finished_key[] = "008d3b66f816ea559f96b537e885c31fc068bf492c652f01f288a1d8cdc19fc8";
/* §3 server  calculate finished "tls13 finished": finished (32 octets) */
static const char s_finished[] = "9b9b141d906337fbd2cbdce71df4deda4ab42c309572cb7fffee5454b78f0718";
/* §3 server  construct a Finished handshake message: Finished (36 octets) */
static const char s_finished_msg[] =
    "140000209b9b141d906337fbd2cbdce71df4deda4ab42c309572cb7fffee5454b78f0718";
/* §3 server  send handshake record: payload (657 octets) */
static const char s_flight[] =
    "080000240022000a00140012001d00170018001901000101010201030104001c00024001000000000b0001b9000001b5"
    "0001b0308201ac30820115a003020102020102300d06092a864886f70d01010b0500300e310c300a0603550403130372"
    "7361301e170d3136303733303031323335395a170d3236303733303031323335395a300e310c300a0603550403130372"
    "736130819f300d06092a864886f70d010101050003818d0030818902818100b4bb498f8279303d980836399b36c6988c"
    "0c68de55e1bdb826d3901a2461eafd2de49a91d015abbc9a95137ace6c1af19eaa6af98c7ced43120998e187a80ee0cc"
    "b0524b1b018c3e0b63264d449a6d38e22a5fda430846748030530ef0461c8ca9d9efbfae8ea6d1d03e2bd193eff0ab9a"
    "8002c47428a6d35a8d88d79f7f1e3f0203010001a31a301830090603551d1304023000300b0603551d0f0404030205a0"
    "300d06092a864886f70d01010b05000381810085aad2a0e5b9276b908c65f73a7267170618a54c5f8a7b337d2df7a594"
    "365417f2eae8f8a58c8f8172f9319cf36b7fd6c55b80f21a03015156726096fd335e5e67f2dbf102702e608ccae6bec1"
    "fc63a42a99be5c3eb7107c3c54e9b9eb2bd5203b1c3b84e0a8b2f759409ba3eac9d91d402dcc0cc8f8961229ac9187b4"
    "2b4de100000f000084080400805a747c5d88fa9bd2e55ab085a61015b7211f824cd484145ab3ff52f1fda8477b0b7abc"
    "90db78e2d33a5c141a078653fa6bef780c5ea248eeaaa785c4f394cab6d30bbe8d4859ee511f602957b15411ac027671"
    "459e46445c9ea58c181e818e95b8c3fb0bf3278409d3be152a3da5043e063dda65cdf5aea20d53dfacd42f74f3140000"
    "209b9b141d906337fbd2cbdce71df4deda4ab42c309572cb7fffee5454b78f0718";
/* §3 server  send handshake record: complete record (679 octets) */
static const char s_flight_record[] =
    "17030302a2d1ff334a56f5bff6594a07cc87b580233f500f45e489e7f33af35edf7869fcf40aa40aa2b8ea73f848a7ca"
    "07612ef9f945cb960b4068905123ea78b111b429ba9191cd05d2a389280f526134aadc7fc78c4b729df828b5ecf7b13b"
    "d9aefb0e57f271585b8ea9bb355c7c79020716cfb9b1183ef3ab20e37d57a6b9d7477609aee6e122a4cf51427325250c"
    "7d0e509289444c9b3a648f1d71035d2ed65b0e3cdd0cbae8bf2d0b227812cbb360987255cc744110c453baa4fcd61092"
    "8d809810e4b7ed1a8fd991f06aa6248204797e36a6a73b70a2559c09ead686945ba246ab66e5edd8044b4c6de3fcf2a8"
    "9441ac66272fd8fb330ef8190579b3684596c960bd596eea520a56a8d650f563aad27409960dca63d3e688611ea5e22f"
    "4415cf9538d51a200c27034272968a264ed6540c84838d89f72c24461aad6d26f59ecaba9acbbb317b66d902f4f292a3"
    "6ac1b639c637ce343117b659622245317b49eeda0c6258f100d7d961ffb138647e92ea330faeea6dfa31c7a84dc3bd7e"
    "1b7a6c7178af36879018e3f252107f243d243dc7339d5684c8b0378bf30244da8c87c843f5e56eb4c5e8280a2b48052c"
    "f93b16499a66db7cca71e4599426f7d461e66f99882bd89fc50800becca62d6c74116dbd2972fda1fa80f85df881edbe"
    "5a37668936b335583b599186dc5c6918a396fa48a181d6b6fa4f9d62d513afbb992f2b992f67f8afe67f76913fa388cb"
    "5630c8ca01e0c65d11c66a1e2ac4c85977b7c7a6999bbf10dc35ae69f5515614636c0b9b68c19ed2e31c0b3b66763038"
    "ebba42f3b38edc0399f3a9f23faa63978c317fc9fa66a73f60f0504de93b5b845e275592c12335ee340bbc4fddd50278"
    "4016e4b3be7ef04dda49f4b440a30cb5d2af939828fd4ae3794e44f94df5a631ede42c1719bfdabf0253fe5175be898e"
    "750edc53370d2b";
/* §3 server  derive secret "tls13 c ap traffic": hash (32 octets) */
static const char hash_ch_sf[] = "9608102a0f1ccc6db6250b7b7e417b1a000eaada3daae4777a7686c9ff83df13";
/* §3 server  derive secret "tls13 c ap traffic": expanded (32 octets) */
static const char c_ap[] = "9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5";
/* §3 server  derive secret "tls13 s ap traffic": expanded (32 octets) */
static const char s_ap[] = "a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643";
/* §3 server  derive secret "tls13 exp master": expanded (32 octets) */
static const char exp_master[] = "fe22f881176eda18eb8f44529e6792c50c9a3f89452f68d8ae311b4309d3cf50";
/* §3 server  derive write traffic keys for application data: key expanded (16 octets) */
static const char s_ap_key[] = "9f02283b6c9c07efc26bb9f2ac92e356";
/* §3 server  derive write traffic keys for application data: iv expanded (12 octets) */
static const char s_ap_iv[] = "cf782b88dd83549aadf1e984";
/* §3 server  derive read traffic keys for handshake data: key expanded (16 octets) */
static const char c_hs_key[] = "dbfaa693d1762c5b666af5d950258d01";
/* §3 server  derive read traffic keys for handshake data: iv expanded (12 octets) */
static const char c_hs_iv[] = "5bd3c71b836e0b76bb73265f";
/* §3 client  calculate finished "tls13 finished": finished (32 octets) */
static const char c_finished[] = "a8ec436d677634ae525ac1fcebe11a039ec17694fac6e98527b642f2edd5ce61";
/* §3 client  construct a Finished handshake message: Finished (36 octets) */
static const char c_finished_msg[] =
    "14000020a8ec436d677634ae525ac1fcebe11a039ec17694fac6e98527b642f2edd5ce61";
/* §3 client  send handshake record: complete record (58 octets) */
static const char c_finished_record[] =
    "170303003575ec4dc238cce60b298044a71e219c56cc77b0517fe9b93c7a4bfc44d87f38f80338ac98fc46deb384bd1c"
    "aeacab6867d726c40546";
/* §3 client  derive write traffic keys for application data: key expanded (16 octets) */
static const char c_ap_key[] = "17422dda596ed5d9acd890e3c63f5051";
/* §3 client  derive write traffic keys for application data: iv expanded (12 octets) */
static const char c_ap_iv[] = "5b78923dee08579033e523d9";
/* §3 client  derive secret "tls13 res master": hash (32 octets) */
static const char hash_ch_cf[] = "209145a96ee8e2a122ff810047cc952684658d6049e86429426db87c54ad143d";
/* §3 client  derive secret "tls13 res master": expanded (32 octets) */
static const char res_master[] = "7df235f2031d2a051287d02b0241b0bfdaf86cc856231f2d5aba46c434ec196c";
/* §3 server  generate resumption secret "tls13 resumption": hash (2 octets) */
static const char ticket_nonce[] = "0000";
/* §3 server  generate resumption secret "tls13 resumption": expanded (32 octets) */
static const char resumption_psk[] = "4ecd0eb6ec3b4d87f5d6028f922ca4c5851a277fd41311c9e62d2c9492e1c4f3";
/* §3 server  send handshake record: payload (205 octets) */
static const char nst[] =
    "040000c90000001efad6aac502000000b22c035d829359ee5ff7af4ec900000000262a6494dc486d2c8a34cb33fa90bf"
    "1b0070ad3c498883c9367c09a2be785abc55cd226097a3a982117283f82a03a143efd3ff5dd36d64e861be7fd61d2827"
    "db279cce145077d454a3664d4e6da4d29ee03725a6a4dafcd0fc67d2aea70529513e3da2677fa5906c5b3f7d8f92f228"
    "bda40dda721470f9fbf297b5aea617646fac5c03272e970727c621a79141ef5f7de6505e5bfbc388e93343694093934a"
    "e4d3570008002a000400000400";
/* §3 server  send handshake record: complete record (227 octets) */
static const char nst_record[] =
    "17030300de3a6b8f90414a97d6959c3487680de5134a2b240e6cffac116e95d41d6af8f6b580dcf3d11d63c758db289a"
    "015940252f55713e061dc13e078891a38efbcf5753ad8ef170ad3c7353d16d9da773b9ca7f2b9fa1b6c0d4a3d03f75e0"
    "9c30ba1e62972ac46f75f7b981be63439b2999ce13064615139891d5e4c5b406f16e3fc181a77ca475840025db2f0a77"
    "f81b5ab05b94c01346755f69232c86519d86cbeeac87aac347d143f9605d64f650db4d023e70e952ca49fe5137121c74"
    "bc2697687e248746d6df353005f3bce18696129c8153556b3b6c6779b37bf15985684f";
/* §3 client  send application_data record: payload (50 octets) */
static const char c_data[] =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f"
    "3031";
/* §3 client  send application_data record: complete record (72 octets) */
static const char c_data_record[] =
    "1703030043a23f7054b62c94d0affafe8228ba55cbefacea42f914aa66bcab3f2b9819a8a5b46b395bd54a9a20441e2b"
    "62974e1f5a6292a2977014bd1e3deae63aeebb21694915e4";
/* §3 server  send application_data record: payload (50 octets) */
static const char s_data[] =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f"
    "3031";
/* §3 server  send application_data record: complete record (72 octets) */
static const char s_data_record[] =
    "17030300432e937e11ef4ac740e538ad36005fc4a46932fc3225d05f82aa1b36e30efaf97d90e6dffc602dcb501a59a8"
    "fcc49c4bf2e5f0a21c0047c2abf332540dd032e167c2955d";
/* §3 client  send alert record: complete record (24 octets) */
static const char c_alert_record[] = "1703030013c9872760655666b74d7ff1153efd6db6d0b0e3";
/* §3 server  send alert record: complete record (24 octets) */
static const char s_alert_record[] = "1703030013b58fd67166ebf599d24720cfbe7efa7a8864a9";
/* §4 client  extract secret "early": secret (32 octets) */
static const char r_early_secret[] = "9b2188e9b2fc6d64d71dc329900e20bb41915000f678aa839cbb797cb7d8332c";
/* §4 client  calculate PSK binder: ClientHello prefix (477 octets) */
static const char r_ch_prefix[] =
    "010001fc03031bc3ceb6bbe39cff938355b5a50adb6db21b7a6af649d7b4bc419d7876487d9500000613011303130201"
    "0001cd0000000b0009000006736572766572ff01000100000a00140012001d0017001800190100010101020103010400"
    "3300260024001d0020e4ffb68ac05f8d96c99da26698346c6be16482badddafe051a66b4f18d668f0b002a0000002b00"
    "03020304000d0020001e040305030603020308040805080604010501060102010402050206020202002d00020101001c"
    "000240010015005700000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "2900dd00b800b22c035d829359ee5ff7af4ec900000000262a6494dc486d2c8a34cb33fa90bf1b0070ad3c498883c936"
    "7c09a2be785abc55cd226097a3a982117283f82a03a143efd3ff5dd36d64e861be7fd61d2827db279cce145077d454a3"
    "664d4e6da4d29ee03725a6a4dafcd0fc67d2aea70529513e3da2677fa5906c5b3f7d8f92f228bda40dda721470f9fbf2"
    "97b5aea617646fac5c03272e970727c621a79141ef5f7de6505e5bfbc388e93343694093934ae4d357fad6aacb";
/* §4 client  calculate PSK binder: binder hash (32 octets) */
static const char r_binder_hash[] = "63224b2e4573f2d3454ca84b9d009a04f6be9e05711a8396473aefa01e924a14";
/* §4 client  calculate PSK binder: PRK (32 octets) */
static const char r_binder_key[] = "69fe131a3bbad5d63c64eebcc30e395b9d8107726a13d074e389dbc8a4e47256";
/* §4 client  calculate PSK binder: expanded (32 octets) */
static const char r_binder_finished_key[] =
    "5588673e72cb59c87d220caffe94f2dea9a3b1609f7d50e90a48227db9ed7eaa";
/* §4 client  calculate PSK binder: finished (32 octets) */
static const char r_binder[] = "3add4fb2d8fdf822a0ca3cf7678ef5e88dae990141c5924d57bb6fa31b9e5f9d";
/* §4 client  send handshake record: payload (512 octets) */
static const char r_client_hello[] =
    "010001fc03031bc3ceb6bbe39cff938355b5a50adb6db21b7a6af649d7b4bc419d7876487d9500000613011303130201"
    "0001cd0000000b0009000006736572766572ff01000100000a00140012001d0017001800190100010101020103010400"
    "3300260024001d0020e4ffb68ac05f8d96c99da26698346c6be16482badddafe051a66b4f18d668f0b002a0000002b00"
    "03020304000d0020001e040305030603020308040805080604010501060102010402050206020202002d00020101001c"
    "000240010015005700000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "2900dd00b800b22c035d829359ee5ff7af4ec900000000262a6494dc486d2c8a34cb33fa90bf1b0070ad3c498883c936"
    "7c09a2be785abc55cd226097a3a982117283f82a03a143efd3ff5dd36d64e861be7fd61d2827db279cce145077d454a3"
    "664d4e6da4d29ee03725a6a4dafcd0fc67d2aea70529513e3da2677fa5906c5b3f7d8f92f228bda40dda721470f9fbf2"
    "97b5aea617646fac5c03272e970727c621a79141ef5f7de6505e5bfbc388e93343694093934ae4d357fad6aacb002120"
    "3add4fb2d8fdf822a0ca3cf7678ef5e88dae990141c5924d57bb6fa31b9e5f9d";
/* §4 client  derive secret "tls13 c e traffic": expanded (32 octets) */
static const char r_c_e_traffic[] = "3fbbe6a60deb66c30a32795aba0eff7eaa10105586e7be5c09678d63b6caab62";
/* §4 client  derive secret "tls13 e exp master": expanded (32 octets) */
static const char r_e_exp_master[] = "b2026866610937d7423e5be90862ccf24c0e6091186d34f812089ff5be2ef7df";
/* §4 client  derive write traffic keys for early application data: key expanded (16 octets) */
static const char r_early_key[] = "920205a5b7bf2115e6fc5c2942834f54";
/* §4 client  derive write traffic keys for early application data: iv expanded (12 octets) */
static const char r_early_iv[] = "6d475f0993c8e564610db2b9";
/* §4 client  send application_data record: payload (6 octets) */
static const char r_early_data[] = "414243444546";
/* §4 client  send application_data record: complete record (28 octets) */
static const char r_early_record[] = "1703030017ab1df420e75c457a7cc5d2844f76d5aee4b4edbf049be0";

/* ---- helpers ---- */

struct bytes {
	uint8_t p[1024];
	size_t n;
};

static struct bytes hex(const char *s)
{
	struct bytes b = {.n = 0};
	for (size_t i = 0; s[i] && s[i + 1] && b.n < sizeof b.p; i += 2) {
		char two[3] = {s[i], s[i + 1], 0};
		b.p[b.n++] = (uint8_t)strtoul(two, NULL, 16);
	}
	return b;
}

#define CHECK_HEX(buf, len, text)                                                                            \
	do {                                                                                                 \
		struct bytes want_ = hex(text);                                                              \
		CHECK_EQ((len), want_.n);                                                                    \
		CHECK_MEM((buf), want_.p, want_.n);                                                          \
	} while (0)

static const struct crypto_ops *C = &crypto_openssl;

static struct synack_tls_config *cfg(void)
{
	static struct synack_tls_config *c;
	if (!c)
		c = synack_tls_config_new(SYNACK_TLS_SERVER);
	return c;
}

/* Transcript-Hash of the concatenated messages (hex strings, NULL-terminated). */
static void thash(uint8_t out[32], const char *const *msgs)
{
	struct crypto_hash *h = C->hash_new(CRYPTO_SHA256);
	for (; *msgs; msgs++) {
		struct bytes m = hex(*msgs);
		C->hash_update(h, m.p, m.n);
	}
	C->hash_peek(h, out);
	C->hash_free(h);
}

static const char *const msgs_ch_sh[] = {client_hello, server_hello, NULL};
static const char *const msgs_ch_sf[] = {
    client_hello, server_hello, encrypted_extensions, certificate, certificate_verify, s_finished_msg, NULL};
static const char *const msgs_ch_cv[] = {client_hello, server_hello,	   encrypted_extensions,
					 certificate,  certificate_verify, NULL};
static const char *const msgs_ch_cf[] = {
    client_hello,	server_hello,	encrypted_extensions, certificate,
    certificate_verify, s_finished_msg, c_finished_msg,	      NULL};

/* The §3 secrets, derived by the core. */
struct sec3 {
	uint8_t c_hs[32], s_hs[32], c_ap[32], s_ap[32], exp[32], res[32];
};

static struct sec3 derive3(void)
{
	struct sec3 s;
	struct tls_schedule ks;
	uint8_t h[32];
	struct bytes e = hex(ecdhe);
	CHECK_EQ(tls_ks_early(&ks, C, CRYPTO_SHA256, NULL, 0), 0);
	CHECK_HEX(ks.secret, tls_ks_len(&ks), early_secret);
	CHECK_EQ(tls_ks_handshake(&ks, e.p, e.n), 0);
	CHECK_HEX(ks.secret, 32, hs_secret);
	thash(h, msgs_ch_sh);
	CHECK_HEX(h, 32, hash_ch_sh);
	CHECK_EQ(tls_ks_derive(&ks, TLS_LABEL_C_HS_TRAFFIC, h, s.c_hs), 0);
	CHECK_EQ(tls_ks_derive(&ks, TLS_LABEL_S_HS_TRAFFIC, h, s.s_hs), 0);
	CHECK_EQ(tls_ks_master(&ks), 0);
	CHECK_HEX(ks.secret, 32, master);
	thash(h, msgs_ch_sf);
	CHECK_HEX(h, 32, hash_ch_sf);
	CHECK_EQ(tls_ks_derive(&ks, TLS_LABEL_C_AP_TRAFFIC, h, s.c_ap), 0);
	CHECK_EQ(tls_ks_derive(&ks, TLS_LABEL_S_AP_TRAFFIC, h, s.s_ap), 0);
	CHECK_EQ(tls_ks_derive(&ks, TLS_LABEL_EXP_MASTER, h, s.exp), 0);
	thash(h, msgs_ch_cf);
	CHECK_HEX(h, 32, hash_ch_cf);
	CHECK_EQ(tls_ks_derive(&ks, TLS_LABEL_RES_MASTER, h, s.res), 0);
	tls_ks_clear(&ks);
	return s;
}

static const struct tls_suite *aes128(void)
{
	return tls_suite_find(SYNACK_TLS_AES_128_GCM_SHA256);
}

/* A connection with the handshake bypassed; handshake messages it
 * receives go to sink. */
static struct synack_tls *conn(struct bbuf *sink)
{
	struct synack_tls *t = tls_test_conn(cfg());
	t->core->test_sink = sink;
	return t;
}

static size_t drain(struct synack_tls *t, uint8_t *buf, size_t cap)
{
	return synack_tls_take(t, buf, cap);
}

static void feed_all(struct synack_tls *t, const char *record_hex)
{
	struct bytes r = hex(record_hex);
	CHECK_EQ(synack_tls_feed(t, r.p, r.n), (ssize_t)r.n);
}

/* ---- §3: the key schedule ---- */

TEST(rfc8448_simple_secrets)
{
	struct sec3 s = derive3();
	CHECK_HEX(s.c_hs, 32, c_hs);
	CHECK_HEX(s.s_hs, 32, s_hs);
	CHECK_HEX(s.c_ap, 32, c_ap);
	CHECK_HEX(s.s_ap, 32, s_ap);
	CHECK_HEX(s.exp, 32, exp_master);
	CHECK_HEX(s.res, 32, res_master);
}

TEST(rfc8448_simple_keys_and_ivs)
{
	struct sec3 s = derive3();
	const struct {
		const uint8_t *secret;
		const char *key, *iv;
	} v[] = {{s.s_hs, s_hs_key, s_hs_iv},
		 {s.c_hs, c_hs_key, c_hs_iv},
		 {s.s_ap, s_ap_key, s_ap_iv},
		 {s.c_ap, c_ap_key, c_ap_iv}};
	for (size_t i = 0; i < ARRAY_LEN(v); i++) {
		uint8_t key[16], iv[12];
		CHECK_EQ(tls_hkdf_expand_label(C, CRYPTO_SHA256, v[i].secret, "key", NULL, 0, key, 16), 0);
		CHECK_EQ(tls_hkdf_expand_label(C, CRYPTO_SHA256, v[i].secret, "iv", NULL, 0, iv, 12), 0);
		CHECK_HEX(key, 16, v[i].key);
		CHECK_HEX(iv, 12, v[i].iv);
	}
	/* tls_set_keys derives the same iv */
	struct synack_tls *t = conn(NULL);
	CHECK_EQ(tls_set_keys(t, TLS_WRITE, TLS_EPOCH_HANDSHAKE, aes128(), s.s_hs), 0);
	CHECK_HEX(t->wr.iv, 12, s_hs_iv);
	CHECK_EQ(t->wr.seq, 0);
	CHECK_MEM(t->wr.secret, s.s_hs, 32);
	synack_tls_free(t);
}

TEST(rfc8448_simple_finished)
{
	struct sec3 s = derive3();
	uint8_t h[32], fk[32], mac[32];
	CHECK_EQ(tls_hkdf_expand_label(C, CRYPTO_SHA256, s.s_hs, "finished", NULL, 0, fk, 32), 0);
	CHECK_HEX(fk, 32, s_finished_key);
	thash(h, msgs_ch_cv);
	CHECK_EQ(tls_finished_mac(C, CRYPTO_SHA256, s.s_hs, h, mac), 0);
	CHECK_HEX(mac, 32, s_finished);
	thash(h, msgs_ch_sf);
	CHECK_EQ(tls_finished_mac(C, CRYPTO_SHA256, s.c_hs, h, mac), 0);
	CHECK_HEX(mac, 32, c_finished);
}

TEST(rfc8448_simple_transcript)
{
	/* raw before select, hashed after; hash_with leaves it unchanged */
	struct synack_tls *t = conn(NULL);
	struct bytes ch = hex(client_hello), sh = hex(server_hello);
	uint8_t h[32], h2[32];
	CHECK_EQ(tls_transcript_add(t, ch.p, ch.n), 0);
	CHECK(tls_transcript_hash(t, h) < 0); /* no hash selected yet */
	CHECK_EQ(tls_transcript_hash_with(t, CRYPTO_SHA256, sh.p, sh.n, h2), 0);
	CHECK_HEX(h2, 32, hash_ch_sh);
	CHECK_EQ(tls_transcript_select(t, CRYPTO_SHA256), 0);
	CHECK_EQ(t->core->tr_raw, NULL);
	CHECK_EQ(tls_transcript_add(t, sh.p, sh.n), 0);
	CHECK_EQ(tls_transcript_hash(t, h), 0);
	CHECK_HEX(h, 32, hash_ch_sh);
	for (size_t i = 2; msgs_ch_cf[i]; i++) {
		struct bytes m = hex(msgs_ch_cf[i]);
		CHECK_EQ(tls_transcript_add(t, m.p, m.n), 0);
		if (msgs_ch_cf[i] == s_finished_msg) {
			CHECK_EQ(tls_transcript_hash(t, h), 0);
			CHECK_HEX(h, 32, hash_ch_sf);
		}
	}
	CHECK_EQ(tls_transcript_hash(t, h), 0);
	CHECK_HEX(h, 32, hash_ch_cf);
	CHECK(tls_transcript_hash_with(t, CRYPTO_SHA384, NULL, 0, h) < 0);
	synack_tls_free(t);
}

TEST(rfc8448_transcript_hrr_message_hash)
{
	/* §4.4.1: message_hash(254) 00 00 20 Hash(ClientHello1) */
	struct synack_tls *t = conn(NULL);
	struct bytes ch = hex(client_hello);
	uint8_t h[32], inner[32], mh[4 + 32] = {254, 0, 0, 32}, want[32];
	CHECK_EQ(tls_transcript_add(t, ch.p, ch.n), 0);
	CHECK_EQ(tls_transcript_select(t, CRYPTO_SHA256), 0);
	CHECK_EQ(tls_transcript_hrr(t), 0);
	C->hash(CRYPTO_SHA256, ch.p, ch.n, inner);
	memcpy(mh + 4, inner, 32);
	C->hash(CRYPTO_SHA256, mh, sizeof mh, want);
	CHECK_EQ(tls_transcript_hash(t, h), 0);
	CHECK_MEM(h, want, 32);
	synack_tls_free(t);
}

/* ---- §3: record protection, sealing ---- */

TEST(rfc8448_simple_server_records_sealed)
{
	struct sec3 s = derive3();
	struct synack_tls *t = conn(NULL);
	uint8_t out[1024];
	struct bytes m = hex(server_hello);
	CHECK_EQ(tls_send_handshake(t, m.p, m.n), 0); /* plaintext ServerHello */
	CHECK_HEX(out, drain(t, out, sizeof out), server_hello_record);
	CHECK_EQ(tls_set_keys(t, TLS_WRITE, TLS_EPOCH_HANDSHAKE, aes128(), s.s_hs), 0);
	m = hex(s_flight);
	CHECK_EQ(tls_send_handshake(t, m.p, m.n), 0);
	CHECK_HEX(out, drain(t, out, sizeof out), s_flight_record);
	CHECK_EQ(tls_set_keys(t, TLS_WRITE, TLS_EPOCH_APPLICATION, aes128(), s.s_ap), 0);
	t->hs_done = true;
	m = hex(nst);
	CHECK_EQ(tls_send_handshake(t, m.p, m.n), 0);
	CHECK_HEX(out, drain(t, out, sizeof out), nst_record);
	m = hex(s_data);
	CHECK_EQ(synack_tls_write(t, m.p, m.n), (ssize_t)m.n);
	CHECK_HEX(out, drain(t, out, sizeof out), s_data_record);
	CHECK_EQ(synack_tls_close(t), 0);
	CHECK_HEX(out, drain(t, out, sizeof out), s_alert_record);
	CHECK_EQ(synack_tls_write(t, m.p, m.n), -EPIPE);
	synack_tls_free(t);
}

TEST(rfc8448_simple_client_records_sealed)
{
	struct sec3 s = derive3();
	struct synack_tls *t = conn(NULL);
	uint8_t out[1024];
	CHECK_EQ(tls_set_keys(t, TLS_WRITE, TLS_EPOCH_HANDSHAKE, aes128(), s.c_hs), 0);
	struct bytes m = hex(c_finished_msg);
	CHECK_EQ(tls_send_handshake(t, m.p, m.n), 0);
	CHECK_HEX(out, drain(t, out, sizeof out), c_finished_record);
	CHECK_EQ(tls_set_keys(t, TLS_WRITE, TLS_EPOCH_APPLICATION, aes128(), s.c_ap), 0);
	t->hs_done = true;
	m = hex(c_data);
	CHECK_EQ(synack_tls_write(t, m.p, m.n), (ssize_t)m.n);
	CHECK_HEX(out, drain(t, out, sizeof out), c_data_record);
	CHECK_EQ(synack_tls_close(t), 0);
	CHECK_HEX(out, drain(t, out, sizeof out), c_alert_record);
	synack_tls_free(t);
}

/* ---- §3: record protection, opening ---- */

TEST(rfc8448_simple_client_opens_server_records)
{
	struct sec3 s = derive3();
	uint8_t sinkbuf[2048], buf[256];
	struct bbuf sink = bbuf_make(sinkbuf, sizeof sinkbuf);
	struct synack_tls *t = conn(&sink);
	feed_all(t, server_hello_record);
	CHECK_HEX(sink.p, sink.len, server_hello);
	sink.len = 0;
	CHECK_EQ(tls_set_keys(t, TLS_READ, TLS_EPOCH_HANDSHAKE, aes128(), s.s_hs), 0);
	feed_all(t, s_flight_record);
	CHECK_HEX(sink.p, sink.len, s_flight);
	sink.len = 0;
	CHECK_EQ(tls_set_keys(t, TLS_READ, TLS_EPOCH_APPLICATION, aes128(), s.s_ap), 0);
	t->hs_done = true;
	feed_all(t, nst_record);
	CHECK_HEX(sink.p, sink.len, nst);
	feed_all(t, s_data_record);
	CHECK_HEX(buf, (size_t)synack_tls_read(t, buf, sizeof buf), s_data);
	CHECK_EQ(synack_tls_read(t, buf, sizeof buf), -EAGAIN);
	feed_all(t, s_alert_record);
	CHECK_EQ(synack_tls_read(t, buf, sizeof buf), 0);
	CHECK(synack_tls_events(t) & SYNACK_TLS_EV_CLOSE_NOTIFY);
	CHECK_EQ(synack_tls_error(t), 0);
	synack_tls_info info;
	synack_tls_get_info(t, &info);
	CHECK_EQ(info.records_in, 5);
	synack_tls_free(t);
}

TEST(rfc8448_simple_server_opens_client_records)
{
	struct sec3 s = derive3();
	uint8_t sinkbuf[2048], buf[256];
	struct bbuf sink = bbuf_make(sinkbuf, sizeof sinkbuf);
	struct synack_tls *t = conn(&sink);
	feed_all(t, client_hello_record); /* legacy_record_version 0x0301 */
	CHECK_HEX(sink.p, sink.len, client_hello);
	sink.len = 0;
	CHECK_EQ(tls_set_keys(t, TLS_READ, TLS_EPOCH_HANDSHAKE, aes128(), s.c_hs), 0);
	feed_all(t, c_finished_record);
	CHECK_HEX(sink.p, sink.len, c_finished_msg);
	CHECK_EQ(tls_set_keys(t, TLS_READ, TLS_EPOCH_APPLICATION, aes128(), s.c_ap), 0);
	t->hs_done = true;
	feed_all(t, c_data_record);
	CHECK_HEX(buf, (size_t)synack_tls_read(t, buf, sizeof buf), c_data);
	feed_all(t, c_alert_record);
	CHECK_EQ(synack_tls_read(t, buf, sizeof buf), 0);
	CHECK_EQ(synack_tls_error(t), 0);
	synack_tls_free(t);
}

/* ---- §4: resumption and 0-RTT ---- */

TEST(rfc8448_resumption_psk_and_binder)
{
	struct bytes rms = hex(res_master), nonce = hex(ticket_nonce), prefix = hex(r_ch_prefix);
	uint8_t psk[32], bk[32], fk[32], h[32], binder[32];
	struct tls_schedule ks;
	CHECK_EQ(tls_resumption_psk(C, CRYPTO_SHA256, rms.p, nonce.p, nonce.n, psk), 0);
	CHECK_HEX(psk, 32, resumption_psk);
	CHECK_EQ(tls_ks_early(&ks, C, CRYPTO_SHA256, psk, 32), 0);
	CHECK_HEX(ks.secret, 32, r_early_secret);
	CHECK_EQ(tls_ks_binder_key(&ks, false, bk), 0);
	CHECK_HEX(bk, 32, r_binder_key);
	CHECK_EQ(tls_hkdf_expand_label(C, CRYPTO_SHA256, bk, "finished", NULL, 0, fk, 32), 0);
	CHECK_HEX(fk, 32, r_binder_finished_key);
	C->hash(CRYPTO_SHA256, prefix.p, prefix.n, h);
	CHECK_HEX(h, 32, r_binder_hash);
	CHECK_EQ(tls_binder_mac(C, CRYPTO_SHA256, bk, h, binder), 0);
	CHECK_HEX(binder, 32, r_binder);
	tls_ks_clear(&ks);
}

TEST(rfc8448_resumption_binder_via_transcript)
{
	/* the client's view: hash_with over the unselected raw transcript */
	struct synack_tls *t = conn(NULL);
	struct bytes prefix = hex(r_ch_prefix);
	uint8_t h[32];
	CHECK_EQ(tls_transcript_hash_with(t, CRYPTO_SHA256, prefix.p, prefix.n, h), 0);
	CHECK_HEX(h, 32, r_binder_hash);
	synack_tls_free(t);
}

TEST(rfc8448_early_traffic)
{
	struct bytes psk = hex(resumption_psk), ch = hex(r_client_hello), data = hex(r_early_data);
	struct tls_schedule ks;
	uint8_t h[32], cet[32], eem[32], key[16], iv[12], out[64];
	CHECK_EQ(tls_ks_early(&ks, C, CRYPTO_SHA256, psk.p, psk.n), 0);
	C->hash(CRYPTO_SHA256, ch.p, ch.n, h);
	CHECK_EQ(tls_ks_derive(&ks, TLS_LABEL_C_E_TRAFFIC, h, cet), 0);
	CHECK_HEX(cet, 32, r_c_e_traffic);
	CHECK_EQ(tls_ks_derive(&ks, TLS_LABEL_E_EXP_MASTER, h, eem), 0);
	CHECK_HEX(eem, 32, r_e_exp_master);
	CHECK_EQ(tls_hkdf_expand_label(C, CRYPTO_SHA256, cet, "key", NULL, 0, key, 16), 0);
	CHECK_HEX(key, 16, r_early_key);
	CHECK_EQ(tls_hkdf_expand_label(C, CRYPTO_SHA256, cet, "iv", NULL, 0, iv, 12), 0);
	CHECK_HEX(iv, 12, r_early_iv);
	/* the 0-RTT record, sealed by the client and opened by the server */
	struct synack_tls *c = conn(NULL), *s = conn(NULL);
	CHECK_EQ(tls_set_keys(c, TLS_WRITE, TLS_EPOCH_EARLY, aes128(), cet), 0);
	CHECK_EQ(tls_record_write(c, TLS_CT_APPLICATION_DATA, data.p, data.n, false), 0);
	CHECK_HEX(out, drain(c, out, sizeof out), r_early_record);
	CHECK_EQ(tls_set_keys(s, TLS_READ, TLS_EPOCH_EARLY, aes128(), cet), 0);
	feed_all(s, r_early_record);
	CHECK_HEX(out, (size_t)synack_tls_read(s, out, sizeof out), r_early_data);
	synack_tls_free(c);
	synack_tls_free(s);
	tls_ks_clear(&ks);
}
