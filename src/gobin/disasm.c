/*
 * disasm: entry and exit probe sites of a Go function (see disasm.h).
 */
#include "disasm.h"

#include "gobin.h"

#include <capstone/capstone.h>
#include <stdlib.h>
#include <string.h>

/* Instructions of the prologue in which the stack check's branch is looked for. */
#define DISASM_PROLOGUE_INSNS 6

static int disasm_push(uint64_t **v, size_t *n, uint64_t x)
{
	uint64_t *nv = realloc(*v, (*n + 1) * sizeof(**v));

	if (!nv)
		return -1;
	nv[(*n)++] = x;
	*v = nv;
	return 0;
}

/* The target of a direct branch, or 0. */
static uint64_t disasm_branch_target(const cs_insn *insn, bool arm64)
{
	if (arm64) {
		const cs_arm64 *a = &insn->detail->arm64;

		for (int i = 0; i < a->op_count; i++)
			if (a->operands[i].type == ARM64_OP_IMM)
				return (uint64_t)a->operands[i].imm;
		return 0;
	}
	const cs_x86 *x = &insn->detail->x86;

	return x->op_count == 1 && x->operands[0].type == X86_OP_IMM ? (uint64_t)x->operands[0].imm
								      : 0;
}

/*
 * Is INSN the stack check's branch to morestack? amd64: JBE/JNA forward
 * (cmp rsp, [r14+16]); arm64: B.LS forward (cmp sp, x16 loaded from g).
 */
static bool disasm_is_stack_branch(const cs_insn *insn, bool arm64, uint64_t func,
				   uint64_t end)
{
	uint64_t t;

	if (arm64) {
		if (insn->id != ARM64_INS_B || insn->detail->arm64.cc != ARM64_CC_LS)
			return false;
	} else if (insn->id != X86_INS_JBE) {
		return false;
	}
	t = disasm_branch_target(insn, arm64);
	return t > insn->address && t >= func && t < end;
}

int disasm_func_sites(const struct gobin *gb, uint64_t func, uint64_t end,
		      struct disasm_sites *out, char *err, size_t errlen)
{
	bool arm64 = gb->arch == ELFIMG_ARCH_ARM64;
	size_t len = end > func ? (size_t)(end - func) : 0;
	const uint8_t *code = len ? elfimg_vptr(gb->img, func, len) : NULL;
	uint64_t addr = func;
	cs_insn *insn;
	csh cs;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	out->func = out->entry = func;
	out->end = end;
	if (gb->arch != ELFIMG_ARCH_AMD64 && !arm64) {
		snprintf(err, errlen, "probes are placed on amd64 and arm64 code only");
		return -1;
	}
	if (!code) {
		snprintf(err, errlen, "function at 0x%llx: code not in the file",
			 (unsigned long long)func);
		return -1;
	}
	if (cs_open(arm64 ? CS_ARCH_ARM64 : CS_ARCH_X86, arm64 ? CS_MODE_ARM : CS_MODE_64,
		    &cs) != CS_ERR_OK) {
		snprintf(err, errlen, "capstone cannot decode this architecture");
		return -1;
	}
	cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON);
	insn = cs_malloc(cs);
	while (insn && len > 0) {
		if (!cs_disasm_iter(cs, &code, &len, &addr, insn)) {
			/* Undecodable (data, padding): step over it. */
			size_t step = arm64 ? 4 : 1;

			if (len < step)
				break;
			code += step;
			len -= step;
			addr += step;
			continue;
		}
		out->ninsns++;
		if (out->ninsns == 1 && !arm64 && insn->id == X86_INS_ENDBR64)
			out->entry = insn->address + insn->size; /* never probe ENDBR64 */
		if (!out->prologue && out->ninsns <= DISASM_PROLOGUE_INSNS &&
		    disasm_is_stack_branch(insn, arm64, func, end)) {
			out->prologue = true;
			out->entry = insn->address + insn->size;
		}
		if ((arm64 && insn->id == ARM64_INS_RET) || (!arm64 && insn->id == X86_INS_RET)) {
			if (disasm_push(&out->rets, &out->nrets, insn->address) != 0)
				rc = -1;
		} else if ((arm64 && insn->id == ARM64_INS_B && insn->detail->arm64.cc == ARM64_CC_INVALID) ||
			   (!arm64 && insn->id == X86_INS_JMP)) {
			uint64_t t = disasm_branch_target(insn, arm64);

			if (t && (t < func || t >= end) &&
			    disasm_push(&out->tails, &out->ntails, insn->address) != 0)
				rc = -1;
		}
	}
	if (insn)
		cs_free(insn, 1);
	cs_close(&cs);
	if (rc != 0) {
		snprintf(err, errlen, "out of memory");
		disasm_sites_free(out);
	}
	return rc;
}

void disasm_sites_free(struct disasm_sites *s)
{
	free(s->rets);
	free(s->tails);
	s->rets = s->tails = NULL;
	s->nrets = s->ntails = 0;
}
