import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../server/config/load.ts';
import { payloadHash, signRequest } from '../../server/files/sigv4.ts';

describe('S3 request signing and the export store settings', () => {
  it('signs as AWS documents it (Signature Version 4, the GET Object example with a Range header)', () => {
    // From the S3 API reference, "Signature Calculations for the Authorization Header", example GET Object.
    const headers = signRequest({
      method: 'GET',
      url: new URL('https://examplebucket.s3.amazonaws.com/test.txt'),
      headers: { range: 'bytes=0-9' },
      payloadSha256: payloadHash(),
      credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', region: 'us-east-1' },
      now: new Date('2013-05-24T00:00:00Z'),
    });
    expect(headers.authorization).to.equal(
      'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
    );
    expect(headers['x-amz-date']).to.equal('20130524T000000Z');
  });

  it('refuses to boot with an S3 export store that lacks a bucket or credentials, or sends them over plain http', () => {
    try {
      loadConfig({ CUSTODIAN_EXPORT_STORE: 's3', CUSTODIAN_EXPORT_S3_ENDPOINT: 'http://minio.example:9000', CUSTODIAN_EXPORT_S3_BUCKET: 'Bad_Bucket' });
      expect.fail('should have thrown');
    } catch (err) {
      expect(err).to.be.instanceOf(ConfigError);
      const problems = (err as ConfigError).problems.join('\n');
      expect(problems).to.match(/CUSTODIAN_EXPORT_S3_BUCKET: must be an S3 bucket name/);
    }
    try {
      loadConfig({ CUSTODIAN_EXPORT_STORE: 's3', CUSTODIAN_EXPORT_S3_ENDPOINT: 'http://minio.example:9000' });
      expect.fail('should have thrown');
    } catch (err) {
      const problems = (err as ConfigError).problems;
      expect(problems.join('\n')).to.match(/CUSTODIAN_EXPORT_S3_BUCKET: required/);
      expect(problems.join('\n')).to.match(/CUSTODIAN_EXPORT_S3_ACCESS_KEY_ID: required/);
      expect(problems.join('\n')).to.match(/CUSTODIAN_EXPORT_S3_SECRET_ACCESS_KEY: required/);
      expect(problems.join('\n')).to.match(/CUSTODIAN_EXPORT_S3_ENDPOINT: must be https/);
    }
    const ok = loadConfig({ CUSTODIAN_EXPORT_STORE: 's3', CUSTODIAN_EXPORT_S3_BUCKET: 'archive', CUSTODIAN_EXPORT_S3_ACCESS_KEY_ID: 'AKIA', CUSTODIAN_EXPORT_S3_SECRET_ACCESS_KEY: 'secret' });
    expect(ok).to.include({ exportStore: 's3', exportS3Region: 'us-east-1', exportS3PartSizeMb: 16 });
  });
});
