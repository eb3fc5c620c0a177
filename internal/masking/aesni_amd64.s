//go:build amd64 && !purego

#include "textflag.h"

// func cpuHasAESNI() bool
TEXT ·cpuHasAESNI(SB), NOSPLIT, $0-1
	MOVL $1, AX
	XORL CX, CX
	CPUID
	MOVL CX, AX
	SHRL $25, AX
	MOVL CX, DX
	SHRL $19, DX
	ANDL DX, AX
	ANDL $1, AX
	MOVB AX, ret+0(FP)
	RET

// func aesEncBlock(xk *byte, nr int, w0, w1 uint64) (r0, r1 uint64)
TEXT ·aesEncBlock(SB), NOSPLIT, $0-48
	MOVQ xk+0(FP), DX
	MOVQ nr+8(FP), CX
	MOVQ w0+16(FP), AX
	MOVQ w1+24(FP), BX
	BSWAPQ AX
	BSWAPQ BX
	MOVQ AX, X0
	PINSRQ $1, BX, X0
	MOVOU (DX), X1
	PXOR X1, X0
	ADDQ $16, DX
	DECQ CX

loop:
	MOVOU (DX), X1
	AESENC X1, X0
	ADDQ $16, DX
	DECQ CX
	JNZ loop
	MOVOU (DX), X1
	AESENCLAST X1, X0
	MOVQ X0, AX
	PEXTRQ $1, X0, BX
	BSWAPQ AX
	BSWAPQ BX
	MOVQ AX, r0+32(FP)
	MOVQ BX, r1+40(FP)
	RET
