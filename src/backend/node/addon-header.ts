import { ADDON_SPEC, ARG_KINDS, kindOf, type ArgSpec } from './addon-spec.js';

/** The most arguments one entry may take (the C++ Args keeps a bit per argument). */
export const MAX_ARGS = 32;

/**
 * native/src/addon-spec.h, derived from ADDON_SPEC: per entry point with arguments, a struct
 * `spec::<entry>` with an enumerator per argument (its index), their names and kinds, and
 * `kSpec`, which the entry's `Args` reads them by.
 */
export function addonHeader(): string {
  const lines = [
    '// Generated from src/backend/node/addon-spec.ts by `node scripts/gen-addon-spec.mjs`: do not edit.',
    "// Each entry point's named arguments: spec::<entry>::<argument> is an argument's index, kSpec",
    '// gives their names and kinds to Args (common.h).',
    '#pragma once',
    '',
    'namespace vbn {',
    '',
    `enum class ArgKind { ${ARG_KINDS.join(', ')} };`,
    `inline constexpr const char* kArgKindNames[] = {${ARG_KINDS.map((k) => `"${k}"`).join(', ')}};`,
    `constexpr int kMaxArgs = ${MAX_ARGS};`,
    '',
    'struct EntrySpec {',
    '  const char* entry;',
    '  int count;',
    '  const char* const* names;',
    '  const ArgKind* kinds;',
    '};',
    '',
    'namespace spec {',
  ];
  for (const [entry, args] of Object.entries(ADDON_SPEC)) {
    const names = Object.keys(args);
    if (names.length === 0) continue;
    if (names.length > MAX_ARGS) throw new Error(`${entry}: more than ${MAX_ARGS} arguments`);
    const kinds = Object.values(args as Record<string, ArgSpec>).map(kindOf);
    lines.push(
      `struct ${entry} {`,
      `  enum Field : int { ${names.join(', ')}, kCount };`,
      `  static constexpr const char* kNames[] = {${names.map((n) => `"${n}"`).join(', ')}};`,
      `  static constexpr ArgKind kKinds[] = {${kinds.map((k) => `ArgKind::${k}`).join(', ')}};`,
      `  static constexpr EntrySpec kSpec{"${entry}", kCount, kNames, kKinds};`,
      '};',
    );
  }
  lines.push('}  // namespace spec', '', '}  // namespace vbn', '');
  return lines.join('\n');
}
