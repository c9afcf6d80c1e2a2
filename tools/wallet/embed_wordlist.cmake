# Writes the BIP-39 English word list IN as a C++ array into OUT (cmake -P).
set(expected_sha256 2f5eed53a4727b4bf8880d8f3f199efc90e58503646d9ff8eff3a2ed3b24dbda)
file(SHA256 ${IN} actual)
if(NOT actual STREQUAL expected_sha256)
  message(FATAL_ERROR "${IN} is not the BIP-39 English word list (SHA-256 ${actual}, "
                      "expected ${expected_sha256})")
endif()
file(STRINGS ${IN} words)
list(LENGTH words count)
if(NOT count EQUAL 2048)
  message(FATAL_ERROR "${IN} has ${count} words, expected 2048")
endif()
set(body "")
foreach(w IN LISTS words)
  string(APPEND body "    \"${w}\",\n")
endforeach()
file(WRITE ${OUT}.tmp
  "// Generated from ${IN} by tools/wallet/embed_wordlist.cmake. Do not edit.\n"
  "#include \"tools/wallet/mnemonic.h\"\n\n"
  "namespace civitas::wallet {\n\n"
  "const std::array<const char*, 2048> kBip39English = {\n${body}};\n\n"
  "}  // namespace civitas::wallet\n")
file(RENAME ${OUT}.tmp ${OUT})
