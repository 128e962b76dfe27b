/** asl-validator 4 ships no type declarations; this is the part of its API the compiler tests use. */
declare module 'asl-validator' {
  interface AslValidationError {
    readonly 'Error code': string;
    readonly Message: string;
  }
  interface AslValidationResult {
    readonly isValid: boolean;
    readonly errors: readonly AslValidationError[];
    errorsText(separator?: string): string;
  }
  function aslValidator(definition: object, options?: { readonly checkPaths?: boolean; readonly checkArn?: boolean }): AslValidationResult;
  export default aslValidator;
}
